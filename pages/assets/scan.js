// Reads a health code with the camera, or from an uploaded picture of it, where the browser
// has BarcodeDetector, and puts what it read into the form's code field; without it the field
// is typed or pasted. No other effect: the form is submitted as usual.
(function () {
  "use strict";
  var button = document.getElementById("camera");
  var upload = document.getElementById("upload");
  var field = document.getElementById("token");
  if (!field) { return; }
  if (!("BarcodeDetector" in window)) {
    if (button) { button.hidden = true; }
    if (upload) { upload.hidden = true; }
    return;
  }
  var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  var found = function (value) {
    field.value = value;
    field.form.submit();
  };
  if (upload) {
    upload.hidden = false;
    upload.querySelector("input").addEventListener("change", async function (event) {
      var file = event.target.files[0];
      if (!file) { return; }
      try {
        var codes = await detector.detect(await createImageBitmap(file));
        if (codes.length > 0) { found(codes[0].rawValue); return; }
      } catch (e) { /* fall through */ }
      upload.querySelector("span").textContent = "图片中没有识别到二维码，请粘贴或输入码的内容";
    });
  }
  if (!button || !navigator.mediaDevices) { return; }
  button.hidden = false;
  button.addEventListener("click", async function () {
    var video = document.getElementById("preview");
    try {
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.hidden = false;
      video.srcObject = stream;
      await video.play();
      var tick = async function () {
        var codes = await detector.detect(video);
        if (codes.length > 0) {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.hidden = true;
          found(codes[0].rawValue);
          return;
        }
        window.requestAnimationFrame(tick);
      };
      tick();
    } catch (e) {
      button.textContent = "无法打开摄像头，请上传图片、粘贴或输入码";
      button.disabled = true;
    }
  });
})();
