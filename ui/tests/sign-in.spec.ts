import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { SESSION, calls, fail, fakeBackend, mountApp } from './helpers'

const PHONE = '19900098000'

async function openSignIn(overrides = {}) {
  fakeBackend(overrides)
  const app = await mountApp('/sign-in')
  const w = app.wrapper
  const phone = w.find('[data-testid="phone-input"] input')
  const code = w.find('[data-testid="code-input"] input')
  const send = () => w.find('[data-testid="send-code"]')
  const submit = () => w.find('[data-testid="sign-in"]')
  return { ...app, w, phone, code, send, submit }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('sign-in', () => {
  it('keeps the sign-in button disabled until the phone has 11 digits and the code 6', async () => {
    const { phone, code, submit, send } = await openSignIn()
    expect(submit().attributes('disabled')).toBeDefined()
    expect(send().attributes('disabled')).toBeDefined()

    await phone.setValue('1990009800')
    await code.setValue('123456')
    expect(submit().attributes('disabled')).toBeDefined()

    await phone.setValue('19900098000')
    expect(send().attributes('disabled')).toBeUndefined()
    await code.setValue('12345')
    expect(submit().attributes('disabled')).toBeDefined()

    await code.setValue('123456')
    expect(submit().attributes('disabled')).toBeUndefined()
  })

  it('lets only digits into the fields', async () => {
    const { phone, code } = await openSignIn()
    await phone.setValue('199-0009 8000x99')
    await code.setValue('12a3456')
    expect((phone.element as HTMLInputElement).value).toBe(PHONE)
    expect((code.element as HTMLInputElement).value).toBe('123456')
  })

  it('starts the resend countdown after a code is sent and blocks resending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const { phone, send, w } = await openSignIn({
      request_sms_code: () => ({ resend_after_seconds: 60, expires_in_seconds: 300 }),
    })
    await phone.setValue(PHONE)
    await send().trigger('click')
    await flushPromises()

    expect(calls('request_sms_code')[0][1]).toEqual({ phone: PHONE })
    expect(send().text()).toContain('60 秒后重发')
    expect(send().attributes('disabled')).toBeDefined()
    expect(w.text()).toContain('5 分钟内有效')

    await vi.advanceTimersByTimeAsync(1000)
    expect(send().text()).toContain('59 秒后重发')
    await send().trigger('click')
    expect(calls('request_sms_code')).toHaveLength(1)

    await vi.advanceTimersByTimeAsync(59_000)
    expect(send().text()).toContain('获取验证码')
    expect(send().attributes('disabled')).toBeUndefined()
  })

  it('shows a wrong-code error with its code and keeps what was typed', async () => {
    const { phone, code, submit, w } = await openSignIn({
      sign_in: fail('sms_code_invalid', '验证码不正确，请重新输入'),
    })
    await phone.setValue(PHONE)
    await code.setValue('654321')
    await submit().trigger('click')
    await flushPromises()

    const error = w.find('[data-testid="sign-in-error"]')
    expect(error.text()).toContain('验证码不正确，请重新输入')
    expect(error.text()).toContain('错误代码: sms_code_invalid')
    expect((phone.element as HTMLInputElement).value).toBe(PHONE)
    expect((code.element as HTMLInputElement).value).toBe('654321')
    expect(w.find('[data-testid="home"]').exists()).toBe(false)
  })

  it('shows the offline banner when there is no network and keeps the input', async () => {
    const { phone, send, w } = await openSignIn({
      request_sms_code: fail('offline', '网络不可用'),
    })
    expect(w.find('[data-testid="offline-banner"]').exists()).toBe(false)
    await phone.setValue(PHONE)
    await send().trigger('click')
    await flushPromises()

    expect(w.find('[data-testid="offline-banner"]').text()).toContain('网络不可用，请检查网络后重试')
    expect((phone.element as HTMLInputElement).value).toBe(PHONE)
    expect(send().attributes('disabled')).toBeUndefined() // can retry at once
  })

  it('shows rate_limited plainly and lets the countdown run out normally', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    let n = 0
    const { phone, send, w } = await openSignIn({
      request_sms_code: () => {
        if (n++ === 0) return { resend_after_seconds: 60, expires_in_seconds: 300 }
        throw { code: 'rate_limited', message: '发送过于频繁，请稍后再试' }
      },
    })
    await phone.setValue(PHONE)
    await send().trigger('click')
    await flushPromises()
    await vi.advanceTimersByTimeAsync(60_000)
    await send().trigger('click')
    await flushPromises()

    const error = w.find('[data-testid="sign-in-error"]')
    expect(error.text()).toContain('发送过于频繁，请稍后再试')
    expect(error.text()).toContain('错误代码: rate_limited')
    expect((phone.element as HTMLInputElement).value).toBe(PHONE)
  })

  it('goes home after signing in and offers face verification once', async () => {
    const { phone, code, submit, w, router } = await openSignIn({
      request_sms_code: () => ({ resend_after_seconds: 60, expires_in_seconds: 300 }),
      sign_in: () => SESSION,
    })
    await phone.setValue(PHONE)
    await code.setValue('123456')
    await submit().trigger('click')
    await flushPromises()

    expect(calls('sign_in')[0][1]).toEqual({ phone: PHONE, code: '123456' })
    expect(router.currentRoute.value.path).toBe('/')
    expect(w.find('[data-testid="home"]').exists()).toBe(true)
    expect(w.find('[data-testid="greeting-phone"]').text()).toContain('199****8000')
    const prompt = w.find('[data-testid="face-prompt"]')
    expect(prompt.isVisible()).toBe(true)
    expect(prompt.text()).toContain('刷脸认证')
    expect(localStorage.getItem('jingtong.facePromptShown')).toBe('1')
    expect(calls('draft_discard')).toHaveLength(1)
  })

  it('shows the next person an empty form after the previous one signed out', async () => {
    // The phone's 400 ms autosave must not fire while the test types (a loaded machine is slow): only
    // what happens at sign-in counts here.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const { phone, code, submit, w, router } = await openSignIn({
      request_sms_code: () => ({ resend_after_seconds: 60, expires_in_seconds: 300 }),
      sign_in: () => SESSION,
      sign_out: () => null,
    })
    await phone.setValue(PHONE)
    await code.setValue('123456')
    await submit().trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/')
    expect(calls('draft_save')).toHaveLength(0)

    await w.find('[data-testid="tab-me"]').trigger('click')
    await flushPromises()
    await w.find('[data-testid="sign-out"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/sign-in')
    expect((w.find('[data-testid="phone-input"] input').element as HTMLInputElement).value).toBe('')
  })

  it('restores the phone number from the saved draft and autosaves changes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const { phone } = await openSignIn({ draft_load: () => ({ phone: '19900099000' }) })
    expect((phone.element as HTMLInputElement).value).toBe('19900099000')

    await phone.setValue('139001')
    await vi.advanceTimersByTimeAsync(500)
    expect(calls('draft_save').at(-1)?.[1]).toEqual({ item: 'sign_in', payload: { phone: '139001' } })
  })

  it('opens the privacy notice and comes back with the form intact', async () => {
    const { phone, w, router } = await openSignIn()
    await phone.setValue(PHONE)
    await w.find('[data-testid="privacy-link"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/privacy')
    expect(w.text()).toContain('我们收集什么')

    router.back()
    await flushPromises()
    await new Promise((r) => setTimeout(r, 0))
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/sign-in')
    expect((w.find('[data-testid="phone-input"] input').element as HTMLInputElement).value).toBe(PHONE)
  })
})
