// The import runs on the server; this asks how far it is once a second and reloads the page when it ends.
(function () {
  "use strict";
  var section = document.getElementById("import-running");
  if (!section) return;
  var bar = document.getElementById("import-bar");
  var text = document.getElementById("progress-text");
  var url = section.dataset.progressUrl;

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (progress) {
        if (progress.state !== "running") {
          window.location.reload();
          return;
        }
        bar.value = progress.fraction || 0;
        text.textContent = section.dataset.rowsText.replace("{rows}", String(progress.rows || 0));
        window.setTimeout(poll, 1000);
      })
      .catch(function () {
        text.textContent = section.dataset.failedText;
        window.setTimeout(poll, 1000);
      });
  }

  window.setTimeout(poll, 1000);
})();
