import { defineStore } from 'pinia'
import { watch } from 'vue'
import { listen, type UnlistenFn } from '@tauri-apps/api/event'
import type { ChangeEvent } from '../bindings/ChangeEvent'

// Server pushes arrive through the Rust shell as the Tauri event `changed`. Views watch
// `version` and reload what they show; polling stays as the fallback when pushes stop.
export const useChanges = defineStore('changes', {
  state: () => ({ version: 0, last: null as ChangeEvent | null }),
  actions: {
    received(change: ChangeEvent) {
      this.last = change
      this.version++
    },
    /** Called when a session becomes known. */
    async start() {
      const mine = ++generation
      try {
        const off = await listen<ChangeEvent>('changed', (e) => this.received(e.payload))
        // Signed out (or started again) while the listener was being set up.
        if (mine !== generation) return off()
        unlisten?.()
        unlisten = off
      } catch {
        // No Tauri runtime (browser, tests): polling alone keeps views fresh.
      }
    },
    /** Signed out: someone else's changes must not show. */
    stop() {
      generation++
      unlisten?.()
      unlisten = undefined
      this.last = null
    },
  },
})

let unlisten: UnlistenFn | undefined
let generation = 0

/** A case, application or vehicle-move change touches the item with that id; `all` touches everything. */
export function touches(change: ChangeEvent, kind: 'case' | 'application' | 'vehicle_move', id: string): boolean {
  return change.kind === 'all' || (change.kind === kind && change.id === id)
}

/** Runs `reload` for every change `match` accepts while the calling component is mounted. */
export function onChange(match: (change: ChangeEvent) => boolean, reload: () => void): void {
  const changes = useChanges()
  watch(
    () => changes.version,
    () => {
      if (changes.last && match(changes.last)) reload()
    },
  )
}
