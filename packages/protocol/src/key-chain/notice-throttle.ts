/**
 * Runs `task` when notices ask for it, at most once per `intervalMs`: a notice inside the window
 * after a run is not dropped, it runs the task once at the end of the window, and any number of
 * notices meanwhile share that run. So a flood of notices costs one run per window, and the last
 * notice of a burst is always followed by a run that began after it.
 */
export class NoticeThrottle {
  readonly #task: () => void
  readonly #intervalMs: number
  #lastRun = Number.NEGATIVE_INFINITY
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor(task: () => void, intervalMs: number) {
    this.#task = task
    this.#intervalMs = intervalMs
  }

  notice(): void {
    if (this.#timer !== undefined) return
    const wait = this.#lastRun + this.#intervalMs - Date.now()
    if (wait <= 0) {
      this.#run()
      return
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#run()
    }, wait)
  }

  /** Drops a run still waiting for its window. */
  cancel(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #run(): void {
    this.#lastRun = Date.now()
    this.#task()
  }
}
