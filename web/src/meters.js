// Level meters for both sides of a call: a WebAudio AnalyserNode on each media stream,
// read every 100 ms into a <meter> (0: -60 dBFS or quieter, 1: full scale). The meter also
// keeps the loudest level of the call in data-peak.

const FLOOR_DB = -60;

export function levelOf(samples) {
  let sum = 0;
  for (let i = 0; i < samples.length; i += 1) sum += samples[i] * samples[i];
  const rms = Math.sqrt(sum / Math.max(1, samples.length));
  if (rms <= 0) return 0;
  const db = 20 * Math.log10(rms);
  return Math.min(1, Math.max(0, (db - FLOOR_DB) / -FLOOR_DB));
}

export class LevelMeter {
  constructor(context, stream, meter) {
    this.meter = meter;
    this.source = context.createMediaStreamSource(stream);
    this.analyser = context.createAnalyser();
    this.analyser.fftSize = 1024;
    this.samples = new Float32Array(this.analyser.fftSize);
    this.source.connect(this.analyser); // not to the speakers: the <audio> element plays it
    this.peak = 0;
    meter.dataset.peak = "0";
    this.timer = setInterval(() => this.read(), 100);
  }

  read() {
    this.analyser.getFloatTimeDomainData(this.samples);
    const level = levelOf(this.samples);
    this.meter.value = level;
    this.meter.textContent = `${Math.round(level * 100)}%`;
    if (level > this.peak) {
      this.peak = level;
      this.meter.dataset.peak = level.toFixed(3);
    }
  }

  stop() {
    clearInterval(this.timer);
    this.source.disconnect();
    this.meter.value = 0;
    this.meter.textContent = "0%";
  }
}
