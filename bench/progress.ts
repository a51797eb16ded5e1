/** Progress on the terminal: one line per step, and a live line during load on a TTY. */
export class Progress {
  private readonly started = performance.now()
  private live = false
  private lastPrinted = 0

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  private stamp(): string {
    return `[${((performance.now() - this.started) / 1000).toFixed(1).padStart(6)}s]`
  }

  log(message: string): void {
    this.clearLive()
    this.stream.write(`${this.stamp()} ${message}\n`)
  }

  /** During a scenario: responses so far, current rate, RSS. Rewrites one line on a TTY. */
  tick(label: string, responses: number, elapsedS: number, durationS: number, rssMb?: number) {
    const rate = elapsedS > 0 ? Math.round(responses / elapsedS) : 0
    const text = `${this.stamp()}   ${label}: ${elapsedS.toFixed(0)}/${durationS}s, ${responses} responses, ~${rate} req/s${rssMb === undefined ? '' : `, RSS ${rssMb.toFixed(0)} MB`}`
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`)
      this.live = true
    } else if (performance.now() - this.lastPrinted > 10_000) {
      this.lastPrinted = performance.now()
      this.stream.write(`${text}\n`)
    }
  }

  private clearLive(): void {
    if (this.live) this.stream.write('\r\x1b[2K')
    this.live = false
  }
}
