import { defineStore } from 'pinia'

// Offline is what the Rust side reports (error code `offline`), cleared by the
// next successful network call or the browser's `online` event.
export const useNet = defineStore('net', {
  state: () => ({ offline: false }),
})
