// mkdocs-taghistory: the copy buttons beside digests and pull references.
(function () {
  "use strict";
  // Once a window: a page may carry the script inline, and an instant-loading theme runs a
  // new page's scripts without a new window.
  if (window.taghistoryCopyReady) {
    return;
  }
  window.taghistoryCopyReady = true;

  // One polite live region for the page, so a screen reader says what was copied.
  function announce(text) {
    var region = document.querySelector(".taghistory-status");
    if (!region) {
      region = document.createElement("span");
      region.className = "taghistory-status";
      region.setAttribute("role", "status");
      region.setAttribute("aria-live", "polite");
      document.body.appendChild(region);
    }
    region.textContent = "";
    // A new text node, not the same one again: a repeated message is announced again.
    setTimeout(function () {
      region.textContent = text;
    }, 50);
  }

  // Pages served over plain HTTP (a preview on a LAN address) have no asynchronous
  // clipboard; the selection-based copy still works there.
  function copyBySelection(text) {
    var field = document.createElement("textarea");
    field.value = text;
    field.setAttribute("readonly", "");
    field.style.position = "fixed";
    field.style.opacity = "0";
    document.body.appendChild(field);
    field.select();
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (error) {
      copied = false;
    }
    document.body.removeChild(field);
    return copied ? Promise.resolve() : Promise.reject(new Error("copy refused"));
  }

  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return copyBySelection(text);
      });
    }
    return copyBySelection(text);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var button = target && target.closest ? target.closest(".taghistory-copy") : null;
    if (!button) {
      return;
    }
    var text = button.getAttribute("data-copy") || "";
    copy(text).then(
      function () {
        button.classList.add("taghistory-copied");
        announce("Copied " + text);
        setTimeout(function () {
          button.classList.remove("taghistory-copied");
        }, 1500);
      },
      function () {
        announce("Could not copy; select the value and copy it by hand");
      }
    );
  });
})();
