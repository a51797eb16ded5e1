import { rss } from './proc.js'

/** RSS over the whole run, for the peak figures and the SVG. */

export interface Sample {
  /** Seconds since the run started. */
  t: number
  /** Tree RSS in bytes (what a container limit counts). */
  rss: number
}

/** A stretch of the run with one process under test (one server configuration). */
export interface Segment {
  label: string
  start: number
  end: number
  limitMb: number | undefined
  shedMb: number | undefined
}

/** A scenario's measured window. */
export interface Mark {
  label: string
  start: number
  end: number
}

export interface Timeline {
  samples: Sample[]
  segments: Segment[]
  marks: Mark[]
}

export class Sampler {
  readonly timeline: Timeline = { samples: [], segments: [], marks: [] }
  private readonly origin = performance.now()
  private pids: number[] = []
  private timer: NodeJS.Timeout | undefined
  /** Highest tree RSS sampled since the last reset. */
  peak = 0

  constructor(private readonly intervalMs = 100) {}

  now(): number {
    return Math.round(performance.now() - this.origin) / 1000
  }

  /** Starts sampling these pids (a new process under test) from now on. */
  watch(pids: number[], segment: Omit<Segment, 'start' | 'end'>): void {
    this.stop()
    this.pids = pids
    this.peak = 0
    const start = this.now()
    this.timeline.segments.push({ ...segment, start, end: start })
    this.sample()
    this.timer = setInterval(() => this.sample(), this.intervalMs)
    this.timer.unref()
  }

  sample(): number | undefined {
    const current = rss(this.pids)
    const segment = this.timeline.segments.at(-1)
    if (current === undefined || segment === undefined) return undefined
    const t = this.now()
    segment.end = t
    this.timeline.samples.push({ t, rss: current.tree })
    if (current.tree > this.peak) this.peak = current.tree
    return current.tree
  }

  mark(label: string, start: number, end: number): void {
    this.timeline.marks.push({ label, start, end })
  }

  stop(): void {
    if (this.timer) this.sample()
    clearInterval(this.timer)
    this.timer = undefined
  }
}
