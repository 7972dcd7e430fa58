// The scan page: keep the focus on the input, sound each outcome, scan with the camera where the browser can.
(() => {
  const input = () => document.getElementById("scan-input");
  const soundButton = document.getElementById("sound-toggle");
  let soundOn = localStorage.getItem("caliber.sound") !== "off";
  const showSound = () => {
    soundButton.textContent = soundOn ? "Sound on" : "Sound off";
    soundButton.setAttribute("aria-pressed", String(soundOn));
  };
  soundButton.addEventListener("click", () => {
    soundOn = !soundOn;
    localStorage.setItem("caliber.sound", soundOn ? "on" : "off");
    showSound();
    input().focus();
  });
  showSound();

  let audio;
  const tones = { found: [[880, 0.09]], done: [[880, 0.09]], place: [[660, 0.09]], not_found: [[220, 0.35]],
                  refused: [[220, 0.35]], wrong_check: [[440, 0.1], [0, 0.06], [440, 0.1]] };
  const beep = (kind) => {
    if (!soundOn || !tones[kind]) return;
    audio = audio || new (window.AudioContext || window.webkitAudioContext)();
    let at = audio.currentTime;
    for (const [hz, seconds] of tones[kind]) {
      if (hz) {
        const osc = audio.createOscillator(), gain = audio.createGain();
        osc.frequency.value = hz; gain.gain.value = 0.15;
        osc.connect(gain).connect(audio.destination); osc.start(at); osc.stop(at + seconds);
      }
      at += seconds;
    }
  };
  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id !== "scan" && event.detail.elt.id !== "scan") return;
    const scan = document.getElementById("scan");
    if (scan) beep(scan.dataset.outcome);
    if (input()) input().focus();
  });
  // A handheld scanner types into whatever has the focus: give it back unless another control is in use.
  document.addEventListener("focusout", () => setTimeout(() => {
    const active = document.activeElement;
    if (input() && (!active || active === document.body)) input().focus();
  }, 250));

  // Camera scanning: the browser's BarcodeDetector where it has one, the vendored jsQR decoder elsewhere.
  const cameraButton = document.getElementById("camera-toggle");
  const cameraNote = document.getElementById("camera-note");
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  cameraButton.hidden = false;
  const video = document.getElementById("camera");
  const canvas = document.createElement("canvas");
  let stream;

  const nativeDetector = async () => {
    if (!("BarcodeDetector" in window)) return null;
    const formats = await BarcodeDetector.getSupportedFormats().catch(() => []);
    if (!formats.includes("qr_code")) return null;
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    return async () => {
      const found = await detector.detect(video).catch(() => []);
      return found.length ? found[0].rawValue : null;
    };
  };
  const loadJsQR = () => new Promise((resolve, reject) => {
    if (window.jsQR) return resolve();
    const script = document.createElement("script");
    script.src = "/static/vendor/jsqr/jsQR.js";
    script.onload = resolve;
    script.onerror = () => reject(new Error("the QR decoder could not be loaded"));
    document.head.appendChild(script);
  });
  const fallbackDetector = async () => {
    await loadJsQR();
    const context = canvas.getContext("2d", { willReadFrequently: true });
    return async () => {
      const width = video.videoWidth, height = video.videoHeight;
      if (!width || !height) return null;
      canvas.width = width; canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      const found = window.jsQR(context.getImageData(0, 0, width, height).data, width, height, { inversionAttempts: "dontInvert" });
      return found ? found.data : null;
    };
  };
  const stop = () => {
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null; video.hidden = true; cameraButton.setAttribute("aria-pressed", "false");
  };
  cameraButton.addEventListener("click", async () => {
    if (stream) { stop(); return; }
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream; video.hidden = false; await video.play();
      cameraButton.setAttribute("aria-pressed", "true");
      cameraNote.textContent = "";
      const native = await nativeDetector();
      const detect = native || (await fallbackDetector());
      cameraButton.dataset.decoder = native ? "native" : "jsqr";
      let last = "", lastAt = 0;
      const look = async () => {
        if (!stream) return;
        const text = await detect();
        // The same label stays in view for a while: send it once, not on every frame.
        if (text && (text !== last || Date.now() - lastAt > 3000)) {
          last = text; lastAt = Date.now();
          input().value = text;
          input().form.requestSubmit();
        }
        setTimeout(look, text ? 600 : 150);
      };
      look();
    } catch (error) {
      stop();
      cameraNote.textContent = `Camera: ${error.message || error}. Scan with a handheld scanner or type the code.`;
    }
  });
})();
