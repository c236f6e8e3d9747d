import { defineStore } from 'pinia'
import type { OutboxEntry } from '../bindings/OutboxEntry'
import { outboxEntries, outboxFlush } from '../ipc/commands'

const RETRY_MS = 30_000

// Sends what was queued offline: once signed in, when the network comes back, and every 30 s
// while something is still pending. Failures stay silent; the offline banner already speaks.
export const useOutbox = defineStore('outbox', {
  state: () => ({ entries: [] as OutboxEntry[], active: false, listening: false }),
  actions: {
    async refresh() {
      try {
        this.entries = await outboxEntries()
      } catch {
        // Keep the last known list.
      }
    },
    async flush() {
      if (!this.active) return
      try {
        await outboxFlush()
      } catch {
        // Offline or signed out: the next trigger tries again.
      }
      await this.refresh()
      this.schedule()
    },
    schedule() {
      clearTimeout(timer)
      if (this.active && this.entries.some((e) => e.state === 'pending')) timer = setTimeout(() => void this.flush(), RETRY_MS)
    },
    /** Called when a session becomes known. */
    start() {
      if (!this.listening) {
        this.listening = true
        window.addEventListener('online', () => void this.flush())
      }
      this.active = true
      void this.flush()
    },
    /** Signed out: nothing may be sent on someone else's behalf. */
    stop() {
      this.active = false
      this.entries = []
      clearTimeout(timer)
    },
  },
})

let timer: ReturnType<typeof setTimeout> | undefined
