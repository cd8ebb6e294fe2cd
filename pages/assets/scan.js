// Reads a health code with the camera where the browser has BarcodeDetector, and puts what it
// read into the form's code field; without it (or without a camera) the field is typed or
// pasted. No other effect: the form is submitted as usual.
(function () {
  "use strict";
  var button = document.getElementById("camera");
  var field = document.getElementById("token");
  if (!button || !field) { return; }
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) {
    button.hidden = true;
    return;
  }
  button.hidden = false;
  button.addEventListener("click", async function () {
    var video = document.getElementById("preview");
    try {
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.hidden = false;
      video.srcObject = stream;
      await video.play();
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var tick = async function () {
        var codes = await detector.detect(video);
        if (codes.length > 0) {
          field.value = codes[0].rawValue;
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.hidden = true;
          field.form.submit();
          return;
        }
        window.requestAnimationFrame(tick);
      };
      tick();
    } catch (e) {
      button.textContent = "无法打开摄像头，请粘贴或输入码";
      button.disabled = true;
    }
  });
})();
