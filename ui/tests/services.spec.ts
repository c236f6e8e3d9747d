import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { ServiceItemPage } from '../src/bindings/ServiceItemPage'
import { calls, fakeBackend, mountApp } from './helpers'

const PAGE: ServiceItemPage = {
  item: {
    id: 'id_card_replacement',
    catalogue_version: '2026-11-29',
    calendar_version: '2026-11-29',
    province_code: '34',
    name_zh: '居民身份证丢失补领',
    name_en: 'Resident ID card replacement (lost)',
    eligibility_zh: '居民身份证丢失的公民。',
    eligibility_en: 'Citizens who lost their card.',
    required_fields: [],
    under_16_fields: [],
    materials: [{ zh: '户口簿', en: 'Household register' }],
    fee_fen: 4000,
    fee_exemption_zh: null,
    fee_exemption_en: null,
    time_limit_working_days: 60,
    remote_extra_working_days: 30,
    validity: { kind: 'by_age' },
    delivery: ['pickup', 'post'],
    province_note_zh: null,
    province_note_en: null,
    sources: [{ rule: 'fee', citation: '发改价格〔2003〕2322号' }],
  },
  deadline_if_submitted_today: '2027-03-02',
  calendar_published: false,
}

describe('service item pages', () => {
  it('shows the fee, time limit with the deadline, materials and legal basis from the rules data', async () => {
    fakeBackend({ service_item: () => PAGE }, true)
    const { wrapper, router } = await mountApp('/')
    await wrapper.find('[data-testid="service-id-card"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/id-card')
    await wrapper.find('[data-testid="item-id_card_replacement"]').trigger('click')
    await flushPromises()
    expect(calls('service_item')[0][1]).toEqual({ item: 'id_card_replacement' })
    expect(wrapper.find('[data-testid="service-item-name"]').text()).toBe('居民身份证丢失补领')
    expect(wrapper.find('[data-testid="service-item-fee"]').text()).toContain('¥40.00')
    expect(wrapper.find('[data-testid="service-item-time"]').text()).toContain('60 个工作日')
    expect(wrapper.find('[data-testid="service-item-time"]').text()).toContain('2027-03-02')
    expect(wrapper.text()).toContain('按周末推算')
    expect(wrapper.find('[data-testid="service-item-sources"]').text()).toContain('2322号')
  })
})
