// The body-size chart of docs/benchmarks.md, drawn by vega-lite (SVG,
// headless): throughput and proxy CPU per request against body size.
import { compile } from 'vega-lite'
import { parse, View } from 'vega'

export async function renderChart (rows) {
  const values = rows.flatMap(r => [
    { size: r.size, label: r.label, path: 'baseline (bare @fastify/http-proxy)', mbps: r.baseline.mbps, cpu: r.baseline.cpu },
    { size: r.size, label: r.label, path: 'campaign-ims-proxy', mbps: r.proxy.mbps, cpu: r.proxy.cpu },
  ])
  const x = { field: 'size', type: 'quantitative', scale: { type: 'log' }, title: 'request body (bytes, log scale)' }
  const color = { field: 'path', type: 'nominal', title: null, legend: { orient: 'bottom' } }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    data: { values },
    hconcat: [
      { title: 'Throughput', width: 320, height: 220, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mbps', type: 'quantitative', title: 'MB/s' }, color } },
      { title: 'CPU time per request (process under test)', width: 320, height: 220, mark: { type: 'line', point: true }, encoding: { x, y: { field: 'cpu', type: 'quantitative', scale: { type: 'log' }, title: 'µs per request (log scale)' }, color } },
    ],
  }
  const view = new View(parse(compile(spec).spec), { renderer: 'none' })
  return await view.toSVG()
}
