import { flushPromises, mount } from '@vue/test-utils'
import { invoke } from '@tauri-apps/api/core'
import { vi } from 'vitest'
import { createMemoryHistory } from 'vue-router'
import App from '../src/App.vue'
import type { SessionInfo } from '../src/bindings/SessionInfo'
import { createJingtong } from '../src/setup'

export type Handler = (args: Record<string, unknown> | undefined) => unknown
export type Backend = Record<string, Handler>

export const SESSION: SessionInfo = {
  user_id: 'u-1',
  phone_masked: '199****8000',
  verification_level: 'none',
}

/** What the Rust side throws for a failed command. */
export const fail = (code: string, message: string): Handler => () => {
  throw { code, message }
}

export function fakeBackend(overrides: Backend = {}, signedIn = false) {
  const handlers: Backend = {
    set_language: () => null,
    current_session: () => (signedIn ? SESSION : null),
    draft_load: () => null,
    draft_save: () => null,
    draft_discard: () => null,
    app_info: () => ({ version: '0.1.0', server_url: 'https://api.example.test' }),
    outbox_flush: () => ({ sent: 0, failed: 0, pending: 0 }),
    outbox_entries: () => [],
    unsent_items: () => ({ outbox: 0, drafts: 0 }),
    ...overrides,
  }
  const mock = vi.mocked(invoke)
  mock.mockReset()
  mock.mockImplementation(async (cmd: string, args?: unknown) => {
    const handler = handlers[cmd]
    if (!handler) throw { code: 'not_mocked', message: cmd }
    return handler(args as Record<string, unknown> | undefined)
  })
  return mock
}

// The router loads most screens when first opened (src/router.ts). Loaded before a test mounts
// the app (after its file's mocks are in place), opening one then takes a tick, as it does in the
// app's own bundle, and the tests' flushPromises covers it.
const views = Object.values(import.meta.glob('../src/views/**/*.vue'))

/** Mounts the whole app (router, stores, i18n) at `path`, like a resident opening it. */
export async function mountApp(path: string) {
  await Promise.all(views.map((load) => load()))
  const { pinia, i18n, router } = createJingtong(createMemoryHistory())
  await router.push(path)
  await router.isReady()
  const wrapper = mount(App, {
    global: { plugins: [pinia, i18n, router] },
    attachTo: document.body.appendChild(document.createElement('div')),
  })
  await flushPromises()
  return { wrapper, router, pinia }
}

export function calls(cmd: string) {
  return vi.mocked(invoke).mock.calls.filter(([c]) => c === cmd)
}
