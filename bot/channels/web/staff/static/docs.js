// The documents desk: drag and drop onto the upload form, and the progress bar of an upload (polls its JSON).
(function () {
  "use strict";
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("files");
  var form = document.getElementById("upload-form");
  if (zone && input && form) {
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (ev) { ev.preventDefault(); zone.classList.add("over"); });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      zone.classList.remove("over");
      if (ev.dataTransfer && ev.dataTransfer.files.length) {
        input.files = ev.dataTransfer.files;
        form.submit();
      }
    });
  }
  var job = document.getElementById("job");
  if (!job) { return; }
  var state = job.getAttribute("data-state");
  if (state === "done" || state === "failed") { return; }
  var url = "/staff/docs/jobs/" + encodeURIComponent(job.getAttribute("data-job")) + ".json";
  var bar = document.getElementById("progress");
  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (data) {
      bar.max = Math.max(data.total, 1);
      bar.value = data.done;
      document.getElementById("job-done").textContent = data.done;
      document.getElementById("job-total").textContent = data.total;
      document.getElementById("job-current").textContent = data.current || "";
      document.getElementById("job-state").textContent = data.state_label;
      if (data.state === "done" || data.state === "failed") {
        window.location.reload();  // the finished page lists each file's outcome with links
      } else {
        window.setTimeout(poll, 500);
      }
    }).catch(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 300);
}());
