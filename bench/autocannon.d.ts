/** The part of autocannon's programmatic API the HTTP bench uses (it ships no types). */
declare module 'autocannon' {
  export interface Options {
    url: string
    connections?: number
    duration?: number
    pipelining?: number
    method?: 'GET' | 'PUT' | 'POST'
    headers?: Record<string, string>
    body?: string
  }
  export interface Histogram {
    average: number
    p99: number
  }
  export interface Result {
    requests: Histogram
    latency: Histogram
    non2xx: number
    errors: number
    timeouts: number
  }
  function autocannon(opts: Options): Promise<Result>
  export default autocannon
}
