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

  const cameraButton = document.getElementById("camera-toggle");
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  cameraButton.hidden = false;
  const video = document.getElementById("camera");
  let stream;
  cameraButton.addEventListener("click", async () => {
    if (stream) { stream.getTracks().forEach((t) => t.stop()); stream = null; video.hidden = true; return; }
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream; video.hidden = false; await video.play();
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const look = async () => {
      if (!stream) return;
      const found = await detector.detect(video).catch(() => []);
      if (found.length) {
        input().value = found[0].rawValue;
        input().form.requestSubmit();
        setTimeout(look, 1200);
      } else {
        setTimeout(look, 250);
      }
    };
    look();
  });
})();
