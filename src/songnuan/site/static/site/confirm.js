// Asks before a form with data-confirm is sent (报送上级, 审核通过, 注销档案): the browser's own dialog, its
// text from the attribute. Listens in the capture phase on the document, so it runs before any handler of
// the form itself (the entry page's save-then-submit) and a "cancel" stops those too.
(function () {
  "use strict";
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );
})();
