import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import { SESSION, calls, fail, fakeBackend, mountApp } from './helpers'

async function openMe(overrides = {}) {
  fakeBackend(overrides, true)
  const app = await mountApp('/')
  await app.wrapper.find('[data-testid="tab-me"]').trigger('click')
  await flushPromises()
  return app
}

describe('me', () => {
  it('shows the verification level and app info', async () => {
    const { wrapper, router } = await openMe()
    expect(router.currentRoute.value.path).toBe('/me')
    expect(wrapper.find('[data-testid="me-verification"]').text()).toContain('未实名认证')
    expect(wrapper.text()).toContain('0.1.0')
    expect(wrapper.text()).toContain('https://api.example.test')
  })

  it('switches the visible text to English and tells the Rust side', async () => {
    const { wrapper } = await openMe()
    await wrapper.find('[data-testid="lang-switch"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="me-verification"]').text()).toContain('Not verified')
    expect(wrapper.find('[data-testid="sign-out"]').text()).toBe('Sign out')
    expect(wrapper.find('[data-testid="tab-home"]').text()).toContain('Home')
    expect(calls('set_language').at(-1)?.[1]).toEqual({ lang: 'en' })
    expect(localStorage.getItem('jingtong.lang')).toBe('en')
    expect(document.documentElement.lang).toBe('en')
  })

  it('turns on elder mode with a root class that survives a restart', async () => {
    const { wrapper } = await openMe()
    expect(document.documentElement.classList.contains('elder')).toBe(false)
    await wrapper.find('[data-testid="elder-switch"]').trigger('click')
    expect(document.documentElement.classList.contains('elder')).toBe(true)
    expect(localStorage.getItem('jingtong.elder')).toBe('1')
  })

  it('uses simpler wording in elder mode', async () => {
    localStorage.setItem('jingtong.elder', '1')
    fakeBackend()
    const { wrapper } = await mountApp('/sign-in')
    expect(document.documentElement.classList.contains('elder')).toBe(true)
    expect(wrapper.find('[data-testid="send-code"]').text()).toBe('发验证码')
  })

  it('shows an app-info error in plain words with its code, and retries', async () => {
    let n = 0
    const { wrapper } = await openMe({
      app_info: () => {
        if (n++ === 0) throw { code: 'config_missing', message: '无法读取应用信息' }
        return { version: '0.1.0', server_url: 'https://api.example.test' }
      },
    })
    const info = wrapper.find('[data-testid="app-info"]')
    expect(info.text()).toContain('无法读取应用信息')
    expect(info.text()).toContain('错误代码: config_missing')
    await info.find('button').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="app-info"]').text()).toContain('0.1.0')
  })

  it('signs out and returns to sign-in', async () => {
    const { wrapper, router } = await openMe({ sign_out: () => null })
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(calls('sign_out')).toHaveLength(1)
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })

  it('signs out at once when nothing is left unsent', async () => {
    const { wrapper, router } = await openMe({ sign_out: () => null })
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="unsent-dialog"]').exists() && wrapper.find('[data-testid="unsent-dialog"]').isVisible()).toBe(false)
    expect(calls('sign_out')[0]?.[1]).toEqual({ deleteLocal: false })
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })

  it('warns about unsent items; cancel keeps the resident signed in', async () => {
    const { wrapper, router } = await openMe({ unsent_items: () => ({ outbox: 1, drafts: 2 }), sign_out: () => null })
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    const dialog = wrapper.find('[data-testid="unsent-dialog"]')
    expect(dialog.isVisible()).toBe(true)
    expect(dialog.text()).toContain('还有 3 项未提交')
    expect(dialog.find('[data-testid="unsent-keep"]').text()).toBe('保留在本机（仅本人登录后可见）')
    expect(dialog.find('[data-testid="unsent-delete"]').text()).toBe('删除并退出')
    expect(dialog.find('[data-testid="unsent-cancel"]').text()).toBe('取消')
    await dialog.find('[data-testid="unsent-cancel"]').trigger('click')
    await flushPromises()
    expect(calls('sign_out')).toHaveLength(0)
    expect(router.currentRoute.value.path).toBe('/me')
    expect(wrapper.text()).toContain(SESSION.phone_masked)
  })

  it('keeps unsent items on this computer when asked to', async () => {
    const { wrapper, router } = await openMe({ unsent_items: () => ({ outbox: 1, drafts: 0 }), sign_out: () => null })
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    await wrapper.find('[data-testid="unsent-keep"]').trigger('click')
    await flushPromises()
    expect(calls('sign_out').map((c) => c[1])).toEqual([{ deleteLocal: false }])
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })

  it('deletes unsent items and signs out, in English too', async () => {
    const { wrapper, router } = await openMe({ unsent_items: () => ({ outbox: 0, drafts: 1 }), sign_out: () => null })
    await wrapper.find('[data-testid="lang-switch"]').trigger('click')
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    const dialog = wrapper.find('[data-testid="unsent-dialog"]')
    expect(dialog.text()).toContain('1 item(s) not submitted yet')
    expect(dialog.find('[data-testid="unsent-keep"]').text()).toBe('Keep on this computer (only you, after signing in)')
    await dialog.find('[data-testid="unsent-delete"]').trigger('click')
    await flushPromises()
    expect(calls('sign_out').map((c) => c[1])).toEqual([{ deleteLocal: true }])
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })

  it('forgets the outbox list of the account that signed out', async () => {
    const entry = {
      id: 'o-1',
      idempotency_key: 'k-1',
      method: 'POST',
      path: '/api/v1/applications',
      created_at: '2026-12-05T00:00:00Z',
      attempts: 1,
      last_error: 'offline',
      state: 'pending',
    }
    const { wrapper, router, pinia } = await openMe({ outbox_entries: () => [entry], sign_out: () => null })
    const { useOutbox } = await import('../src/stores/outbox')
    expect(useOutbox(pinia).entries).toHaveLength(1)
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/sign-in')
    expect(useOutbox(pinia).entries).toEqual([])
  })

  it('stays signed in and says why when sign-out fails', async () => {
    const { wrapper, router } = await openMe({ sign_out: fail('keychain_unavailable', '无法访问系统钥匙串') })
    await wrapper.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/me')
    expect(wrapper.find('[data-testid="sign-out-error"]').text()).toContain('错误代码: keychain_unavailable')
    expect(wrapper.text()).toContain(SESSION.phone_masked)
  })
})
