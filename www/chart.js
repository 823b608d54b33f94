// A tiny line chart on <canvas>: a rolling window of samples, drawn on
// demand. Enough for the monitoring dashboard; no dependency.

export class LineChart {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ capacity: number, color: string, fixedMax?: number }} options
   */
  constructor(canvas, { capacity, color, fixedMax }) {
    this.canvas = canvas;
    this.capacity = capacity;
    this.color = color;
    this.fixedMax = fixedMax;
    this.values = [];
    this.pending = false;
  }

  get length() {
    return this.values.length;
  }

  push(value) {
    this.values.push(value);
    if (this.values.length > this.capacity) this.values.shift();
    if (!this.pending) {
      this.pending = true;
      requestAnimationFrame(() => {
        this.pending = false;
        this.draw();
      });
    }
  }

  draw() {
    const { canvas, values } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (canvas.width !== Math.round(width * ratio)) canvas.width = Math.round(width * ratio);
    if (canvas.height !== Math.round(height * ratio)) canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    ctx.strokeStyle = "rgba(127,127,127,0.25)";
    ctx.lineWidth = 1;
    for (const y of [0.25, 0.5, 0.75]) {
      ctx.beginPath();
      ctx.moveTo(0, Math.round(height * y) + 0.5);
      ctx.lineTo(width, Math.round(height * y) + 0.5);
      ctx.stroke();
    }
    if (values.length < 2) return;
    const max = this.fixedMax ?? Math.max(1e-9, ...values) * 1.15;
    const step = width / (this.capacity - 1);
    const x0 = width - step * (values.length - 1);
    const y = (v) => height - 2 - (Math.min(v, max) / max) * (height - 4);
    ctx.beginPath();
    values.forEach((v, i) => (i ? ctx.lineTo(x0 + i * step, y(v)) : ctx.moveTo(x0, y(v))));
    ctx.strokeStyle = this.color;
    ctx.lineWidth = 2;
    ctx.stroke();
    ctx.lineTo(width, height);
    ctx.lineTo(x0, height);
    ctx.closePath();
    ctx.globalAlpha = 0.12;
    ctx.fillStyle = this.color;
    ctx.fill();
    ctx.globalAlpha = 1;
  }
}
