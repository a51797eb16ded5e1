import type { Timeline } from './sampler.js'
import { MB } from './stats.js'

/** A hand-written SVG line chart of RSS over the run (pure; no dependency). */

const W = 960
const H = 420
const M = { left: 64, right: 16, top: 36, bottom: 72 }
const PW = W - M.left - M.right
const PH = H - M.top - M.bottom

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** Round step for axis ticks: 1, 2 or 5 × a power of ten, giving about `count` ticks. */
export function niceStep(range: number, count: number): number {
  const raw = range / Math.max(1, count)
  const power = 10 ** Math.floor(Math.log10(raw))
  const unit = raw / power
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power
}

export function renderRssSvg(timeline: Timeline, title: string): string {
  const { samples, segments, marks } = timeline
  const tMax = Math.max(1, ...samples.map((s) => s.t), ...segments.map((s) => s.end))
  const limits = segments.flatMap((s) => [s.limitMb ?? 0, s.shedMb ?? 0])
  const peakMb = Math.max(0, ...samples.map((s) => s.rss / MB))
  const yStep = niceStep(Math.max(64, ...limits, peakMb) * 1.08, 8)
  const yMax = Math.ceil((Math.max(64, ...limits, peakMb) * 1.04) / yStep) * yStep
  const x = (t: number) => M.left + (t / tMax) * PW
  const y = (mb: number) => M.top + PH - (mb / yMax) * PH
  const f = (n: number) => n.toFixed(1)
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="20" font-size="14" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  // Scenario windows: shaded bands with their names.
  marks.forEach((m, i) => {
    out.push(
      `<rect x="${f(x(m.start))}" y="${M.top}" width="${f(Math.max(1, x(m.end) - x(m.start)))}" height="${PH}" fill="${i % 2 ? '#e8f0fe' : '#f1f8e9'}"/>`,
      `<text transform="translate(${f(x(m.start) + 11)},${M.top + 6}) rotate(90)" fill="#555">${escapeXml(m.label)}</text>`,
    )
  })
  // Axes and grid.
  for (let mb = 0; mb <= yMax; mb += yStep) {
    out.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${f(y(mb))}" y2="${f(y(mb))}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${f(y(mb) + 4)}" text-anchor="end">${mb}</text>`,
    )
  }
  const tStep = niceStep(tMax, 10)
  for (let t = 0; t <= tMax; t += tStep) {
    out.push(
      `<text x="${f(x(t))}" y="${M.top + PH + 14}" text-anchor="middle">${Math.round(t)}</text>`,
    )
  }
  out.push(
    `<text transform="translate(16,${M.top + PH / 2}) rotate(-90)" text-anchor="middle">RSS, MB</text>`,
    `<text x="${M.left + PW / 2}" y="${H - 6}" text-anchor="middle">seconds since the start of the run; below the axis: the process under test</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + PH}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#333"/>`,
  )
  // Per process: its limit, its shedding threshold, its name under the axis.
  segments.forEach((s, i) => {
    const x1 = f(x(s.start))
    const x2 = f(x(s.end))
    if (s.limitMb !== undefined) {
      out.push(
        `<line x1="${x1}" x2="${x2}" y1="${f(y(s.limitMb))}" y2="${f(y(s.limitMb))}" stroke="#d32f2f" stroke-width="2" stroke-dasharray="6 3"/>`,
      )
    }
    if (s.shedMb !== undefined) {
      out.push(
        `<line x1="${x1}" x2="${x2}" y1="${f(y(s.shedMb))}" y2="${f(y(s.shedMb))}" stroke="#f57c00" stroke-width="1.5" stroke-dasharray="3 3"/>`,
      )
    }
    out.push(
      `<line x1="${x1}" x2="${x1}" y1="${M.top}" y2="${M.top + PH + 24 + (i % 2) * 12}" stroke="#999" stroke-dasharray="2 2"/>`,
      `<text x="${f(x(s.start) + 3)}" y="${M.top + PH + 30 + (i % 2) * 12}" fill="#333">${escapeXml(s.label)}</text>`,
    )
  })
  // RSS: one polyline per process (no line across the gap between two processes).
  for (const s of segments) {
    const points = samples
      .filter((p) => p.t >= s.start && p.t <= s.end)
      .map((p) => `${f(x(p.t))},${f(y(p.rss / MB))}`)
    if (points.length > 0) {
      out.push(
        `<polyline fill="none" stroke="#1565c0" stroke-width="1.5" points="${points.join(' ')}"/>`,
      )
    }
  }
  // Legend.
  const lx = W - M.right - 300
  out.push(
    `<line x1="${lx}" x2="${lx + 24}" y1="16" y2="16" stroke="#1565c0" stroke-width="2"/><text x="${lx + 28}" y="20">RSS</text>`,
    `<line x1="${lx + 64}" x2="${lx + 88}" y1="16" y2="16" stroke="#d32f2f" stroke-width="2" stroke-dasharray="6 3"/><text x="${lx + 92}" y="20">memory limit</text>`,
    `<line x1="${lx + 172}" x2="${lx + 196}" y1="16" y2="16" stroke="#f57c00" stroke-width="1.5" stroke-dasharray="3 3"/><text x="${lx + 200}" y="20">shed (503) above</text>`,
    '</svg>',
  )
  return `${out.join('\n')}\n`
}
