import { flushPromises } from '@vue/test-utils'
import { closeToast } from 'vant'
import { afterEach, describe, expect, it } from 'vitest'
import { SERVICES } from '../src/services'
import { fail, fakeBackend, mountApp } from './helpers'

const KEYS = ['face', 'id-card', 'temp-id', 'vehicle-move', 'scan-pay', 'progress', 'case-lookup']

afterEach(() => closeToast(true))

describe('home', () => {
  it('sends a resident without a session to sign-in', async () => {
    fakeBackend()
    const { router, wrapper } = await mountApp('/')
    expect(router.currentRoute.value.path).toBe('/sign-in')
    expect(wrapper.find('[data-testid="phone-input"] input').exists()).toBe(true)
  })

  it('greets with the masked phone and shows all seven services', async () => {
    fakeBackend({}, true)
    const { wrapper } = await mountApp('/')
    expect(wrapper.find('[data-testid="greeting-phone"]').text()).toContain('199****8000')
    expect(SERVICES.map((s) => s.key)).toEqual(KEYS)
    for (const key of KEYS) {
      expect(wrapper.find(`[data-testid="service-grid"] [data-testid="service-${key}"]`).exists()).toBe(true)
    }
    expect(wrapper.find('[data-testid="service-id-card"]').text()).toBe('居民身份证')
    expect(wrapper.find('[data-testid="attention-strip"]').text()).toContain('暂无待办事项')
    // The face prompt is for a fresh sign-in only, not every launch.
    expect(wrapper.find('[data-testid="face-prompt"]').exists() && wrapper.find('[data-testid="face-prompt"]').isVisible()).toBe(false)
  })

  it('opens vehicle moving from its tile', async () => {
    fakeBackend({ move_rules: () => null }, true)
    const { wrapper, router } = await mountApp('/')
    await wrapper.find('[data-testid="service-vehicle-move"]').trigger('click')
    await flushPromises()
    expect(document.body.textContent).not.toContain('该服务即将开放')
    expect(router.currentRoute.value.path).toBe('/moves/new')
    wrapper.unmount()
  })

  it('filters services by what is typed in the search box, in either language', async () => {
    fakeBackend({}, true)
    const { wrapper } = await mountApp('/')
    const search = wrapper.find('[data-testid="service-search"] input')
    const shown = () => wrapper.findAll('[data-testid="service-grid"] [data-testid^="service-"]').map((e) => e.attributes('data-testid'))

    await search.setValue('身份证')
    expect(shown()).toEqual(expect.arrayContaining(['service-id-card', 'service-temp-id']))
    expect(shown()).not.toContain('service-face')

    await search.setValue('move')
    expect(shown()).toContain('service-vehicle-move')
    expect(shown()).not.toContain('service-id-card')

    await search.setValue('火星')
    expect(wrapper.find('[data-testid="service-grid"]').text()).toContain('没有找到“火星”相关的服务')
  })

  it('goes back to sign-in when the backend says the session is gone', async () => {
    fakeBackend({ app_info: fail('unauthorized', '登录已过期，请重新登录') }, true)
    const { wrapper, router } = await mountApp('/')
    await wrapper.find('[data-testid="tab-me"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/sign-in')
  })
})
