// The parser has no types of its own: what the metrics test reads of its output.
declare module 'parse-prometheus-text-format' {
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
