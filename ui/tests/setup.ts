import { afterAll, afterEach, vi } from 'vitest'

// The Rust side is replaced per test through this mock (see helpers.ts).
vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }))

afterEach(() => {
  localStorage.clear()
  document.body.innerHTML = ''
  document.documentElement.className = ''
})

// Vant's tab bar measures its safe-area height 100, 200 and 300 ms after mounting; a file whose
// tests finish sooner would tear the DOM down under those timers ("window is not defined").
afterAll(() => new Promise((resolve) => setTimeout(resolve, 400)))
