import { afterEach, vi } from 'vitest'

// The Rust side is replaced per test through this mock (see helpers.ts).
vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }))

afterEach(() => {
  localStorage.clear()
  document.body.innerHTML = ''
  document.documentElement.className = ''
})
