// mkdocs-taghistory: the copy buttons beside digests and pull references.
document.addEventListener("click", function (event) {
  var target = event.target;
  var button = target && target.closest ? target.closest(".taghistory-copy") : null;
  if (!button || !navigator.clipboard) {
    return;
  }
  navigator.clipboard.writeText(button.getAttribute("data-copy") || "").then(function () {
    button.classList.add("taghistory-copied");
    setTimeout(function () {
      button.classList.remove("taghistory-copied");
    }, 1500);
  });
});
