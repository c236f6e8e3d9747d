import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { ApplicationView } from '../src/bindings/ApplicationView'
import type { IdPhotoCheck } from '../src/bindings/IdPhotoCheck'
import type { OutboxEntry } from '../src/bindings/OutboxEntry'
import type { PaymentOrder } from '../src/bindings/PaymentOrder'
import type { PickupStation } from '../src/bindings/PickupStation'
import type { ServiceItemPage } from '../src/bindings/ServiceItemPage'
import { useOutbox } from '../src/stores/outbox'
import { today } from '../src/views/applications/apply-form'
import { calls, fail, fakeBackend, mountApp, type Backend } from './helpers'

type Wrapper = Awaited<ReturnType<typeof mountApp>>['wrapper']

// Fictional data of the demo set.
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
    materials: [],
    fee_fen: 4000,
    fee_exemption_zh: null,
    fee_exemption_en: null,
    time_limit_working_days: 60,
    remote_extra_working_days: 30,
    validity: { kind: 'by_age' },
    delivery: ['pickup', 'post'],
    province_note_zh: null,
    province_note_en: null,
    sources: [],
  },
  deadline_if_submitted_today: '2027-03-02',
  calendar_published: true,
}

const STATIONS: PickupStation[] = [
  { id: 's-1', name: '演示市公安局城关派出所', address: '演示路 1 号', hours: '9:00-17:00', region_code: '340102' },
  { id: 's-2', name: '演示市公安局东城派出所', address: '东城路 8 号', hours: '9:00-17:00', region_code: '340103' },
]

const PHOTO = '/9j/AA=='
const DRAFT_KEY = 'apply:id_card_replacement'

const APP: ApplicationView = {
  id: 'a-1',
  item: 'id_card_replacement',
  item_name: '居民身份证丢失补领',
  status: 'accepted',
  created_at: '2026-11-20T02:00:00Z',
  applicant_name_masked: '演**甲',
  id_number_masked: '1101**********001X',
  photo: 'upload',
  delivery: {
    kind: 'post',
    address_masked: '安徽省合肥市 演示路***',
    recipient_masked: '演**甲',
    phone_masked: '199****8000',
    tracking_number: 'SF1234567890',
  },
  fee_fen: 4000,
  bill_id: 'b-9',
  deadline: '2027-03-02',
  working_days_left: 12,
  time_limit_source: '居民身份证法',
  validity: { years: 10 },
  can_withdraw: true,
  next_step: '户籍民警已受理，正在审核。',
  events: [
    { at: '2026-11-20T02:00:00Z', status: 'awaiting_payment', actor: 'resident' },
    { at: '2026-11-20T02:05:00Z', status: 'submitted', actor: 'payment' },
    { at: '2026-11-21T03:00:00Z', status: 'accepted', actor: 'clerk' },
  ],
}

const order: PaymentOrder = {
  order_id: 'o-9',
  bill_id: 'b-9',
  amount_fen: 4000,
  status: 'open',
  expires_at: '2026-11-29T12:00:00Z',
  pay_url: 'http://127.0.0.1:8080/api/v1/dev/provider/pay/p-9',
  receipt_number: null,
}

const reviewDraft = { step: 3, photo: { kind: 'upload', jpeg_base64: PHOTO }, delivery: 'pickup', station_id: 's-2', loss_date: '2026-11-01' }

const mounted: Awaited<ReturnType<typeof mountApp>>[] = []
afterEach(() => {
  // Stop the pages' and the outbox's timers before the DOM goes away.
  mounted.splice(0).forEach(({ wrapper, pinia }) => {
    useOutbox(pinia).stop()
    wrapper.unmount()
  })
})

async function open(path: string, overrides: Backend = {}) {
  fakeBackend({ service_item: () => PAGE, pickup_stations: () => STATIONS, ...overrides }, true)
  const app = await mountApp(path)
  mounted.push(app)
  return app
}

async function importPhoto(wrapper: Wrapper) {
  const input = wrapper.find('[data-testid="apply-photo-import"]')
  Object.defineProperty(input.element, 'files', { value: [new File([new Uint8Array([1])], 'me.jpg')], configurable: true })
  await input.trigger('change')
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

const check = (problem: string | null): IdPhotoCheck => ({
  ok: !problem,
  problem,
  message: problem ? '背景须为纯色浅色。' : '',
  jpeg_base64: PHOTO,
  face_width_px: 207,
  head_top_px: 14,
  eye_line_from_bottom_px: 250,
  bytes: 30000,
})

const saves = () => calls('draft_save').map(([, a]) => a as { item: string; payload: Record<string, unknown> })

describe('apply for an ID card', () => {
  it('opens from the service item page', async () => {
    const { wrapper, router } = await open('/services/id_card_replacement')
    await wrapper.find('[data-testid="service-item-apply"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/apply/id_card_replacement')
    expect(wrapper.find('[data-testid="apply-item"]').text()).toBe('居民身份证丢失补领')
  })

  it('comes back on the review step with the saved photo and choices', async () => {
    const { wrapper } = await open('/apply/id_card_replacement', { draft_load: () => reviewDraft })
    expect(calls('draft_load')[0][1]).toEqual({ item: DRAFT_KEY })
    expect(wrapper.find('[data-testid="apply-step-review"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="apply-photo-review"]').attributes('src')).toContain(PHOTO)
    expect(wrapper.find('[data-testid="apply-review-delivery"]').text()).toContain('东城派出所')
    expect(wrapper.text()).toContain('2026-11-01')
    expect(wrapper.find('[data-testid="apply-fee"]').text()).toContain('¥40.00')
    expect(wrapper.text()).toContain('2027-03-02')
    expect(wrapper.find('[data-testid="apply-submit"]').text()).toBe('提交并缴费')
    expect(wrapper.find('[data-testid="apply-saved"]').text()).toBe('已自动保存')
  })

  it('checks the photo, autosaves every change under the draft key, and preselects the first station', async () => {
    let answer = check('id_photo_background')
    const { wrapper } = await open('/apply/id_card_replacement', { id_photo_check: () => answer })
    const next = () => wrapper.find('[data-testid="apply-next"]')
    expect(next().attributes('disabled')).toBeDefined()

    await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="apply-photo-problem"]').text()).toContain('id_photo_background')
    expect(next().attributes('disabled')).toBeDefined()

    answer = check(null)
    await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="apply-photo-preview"]').exists()).toBe(true)
    await new Promise((r) => setTimeout(r, 350))
    await flushPromises()
    const saved = saves().at(-1)
    expect(saved?.item).toBe(DRAFT_KEY)
    expect(saved?.payload.photo).toEqual({ kind: 'upload', jpeg_base64: PHOTO })

    await next().trigger('click')
    expect(wrapper.find('[data-testid="apply-step-delivery"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="apply-station-s-1"] .van-radio__icon--checked').exists()).toBe(true)
    expect(wrapper.find('[data-testid="apply-loss-date"]').text()).toContain(today())
    await new Promise((r) => setTimeout(r, 350))
    await flushPromises()
    expect(saves().at(-1)?.payload).toMatchObject({ step: 2, station_id: 's-1', loss_date: today() })

    await wrapper.find('[data-testid="apply-back"]').trigger('click')
    expect(wrapper.find('[data-testid="apply-step-photo"]').exists()).toBe(true)
  })

  it('keeps the application for later when offline, and the draft with it', async () => {
    const { wrapper, router } = await open('/apply/id_card_replacement', {
      draft_load: () => reviewDraft,
      application_submit: () => ({ state: 'queued', outbox_id: 'ob-1' }),
    })
    await wrapper.find('[data-testid="apply-submit"]').trigger('click')
    await flushPromises()
    expect(calls('application_submit')[0][1]).toEqual({
      request: {
        item: 'id_card_replacement',
        photo: { kind: 'upload', jpeg_base64: PHOTO },
        delivery: { kind: 'pickup', station_id: 's-2' },
        loss_date: '2026-11-01',
      },
      draftItem: DRAFT_KEY,
    })
    expect(wrapper.find('[data-testid="apply-queued"]').text()).toBe('已保存，联网后将自动提交')
    expect(calls('draft_discard')).toHaveLength(0)
    expect(router.currentRoute.value.path).toBe('/apply/id_card_replacement')
  })

  it('posts the card: asks for the address and, for a damaged card, what is wrong', async () => {
    const damaged = { ...PAGE, item: { ...PAGE.item, id: 'id_card_damaged' as const, fee_fen: 0 } }
    const { wrapper } = await open('/apply/id_card_damaged', {
      service_item: () => damaged,
      draft_load: () => ({ step: 2, photo: { kind: 'upload', jpeg_base64: PHOTO } }),
      application_submit: () => ({ state: 'queued', outbox_id: 'ob-2' }),
    })
    const next = () => wrapper.find('[data-testid="apply-next"]')
    await wrapper.find('[data-testid="apply-delivery-post"]').trigger('click')
    expect(wrapper.find('[data-testid="apply-post-area"]').text()).toContain('选择省 / 市 / 区县')
    await wrapper.find('[data-testid="apply-post-address"] textarea').setValue('演示路 1 号 2 栋 301')
    await wrapper.find('[data-testid="apply-post-recipient"] input').setValue('演示用户甲')
    await wrapper.find('[data-testid="apply-post-phone"] input').setValue('19900098000')
    await wrapper.find('[data-testid="apply-damage"] textarea').setValue('芯片无法读取')
    // No county picked yet.
    expect(next().attributes('disabled')).toBeDefined()
    await new Promise((r) => setTimeout(r, 350))
    await flushPromises()
    expect(saves().at(-1)).toMatchObject({ item: 'apply:id_card_damaged', payload: { delivery: 'post', damage_description: '芯片无法读取' } })
  })

  it('builds a posted request from a restored draft, with no fee to pay', async () => {
    const damaged = { ...PAGE, item: { ...PAGE.item, id: 'id_card_damaged' as const, fee_fen: 0 } }
    const draft = {
      step: 3,
      photo: { kind: 'upload', jpeg_base64: PHOTO },
      delivery: 'post',
      region_code: '340102',
      address: '演示路 1 号',
      recipient: '演示用户甲',
      phone: '19900098000',
      damage_description: '芯片无法读取',
    }
    const { wrapper } = await open('/apply/id_card_damaged', {
      service_item: () => damaged,
      draft_load: () => draft,
      application_submit: () => ({ state: 'queued', outbox_id: 'ob-2' }),
    })
    expect(wrapper.find('[data-testid="apply-review-delivery"]').text()).toContain('安徽省 合肥市 瑶海区 演示路 1 号')
    expect(wrapper.find('[data-testid="apply-fee"]').text()).toContain('免费')
    expect(wrapper.find('[data-testid="apply-submit"]').text()).toBe('提交')
    await wrapper.find('[data-testid="apply-submit"]').trigger('click')
    await flushPromises()
    expect(calls('application_submit')[0][1]).toEqual({
      request: {
        item: 'id_card_damaged',
        photo: { kind: 'upload', jpeg_base64: PHOTO },
        delivery: { kind: 'post', region_code: '340102', address: '演示路 1 号', recipient: '演示用户甲', phone: '19900098000' },
        damage_description: '芯片无法读取',
      },
      draftItem: 'apply:id_card_damaged',
    })
  })

  it('shows a refusal with its code and keeps the form', async () => {
    const { wrapper } = await open('/apply/id_card_replacement', {
      draft_load: () => reviewDraft,
      application_submit: fail('verification_required', '请先完成刷脸认证。'),
    })
    await wrapper.find('[data-testid="apply-submit"]').trigger('click')
    await flushPromises()
    const note = wrapper.find('[data-testid="apply-error"]').text()
    expect(note).toContain('请先完成刷脸认证。')
    expect(note).toContain('verification_required')
    expect(wrapper.find('[data-testid="apply-photo-review"]').exists()).toBe(true)
  })

  it('takes the resident back to the photo step when the server refuses the photo', async () => {
    const { wrapper } = await open('/apply/id_card_replacement', {
      draft_load: () => reviewDraft,
      application_submit: fail('id_photo_other_person', '证件照与您登记的本人照片不符，请上传您本人的照片。'),
    })
    await wrapper.find('[data-testid="apply-submit"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="apply-step-photo"]').exists()).toBe(true)
    const note = wrapper.find('[data-testid="apply-photo-problem"]').text()
    expect(note).toContain('请上传您本人的照片')
    expect(note).toContain('id_photo_other_person')
    expect(wrapper.find('[data-testid="apply-photo-preview"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="apply-error"]').exists()).toBe(false)
  })

  it('sends, opens the payment page for the fee, and shows the application', async () => {
    const sent = { ...APP, status: 'awaiting_payment' as const }
    const { wrapper, router } = await open('/apply/id_card_replacement', {
      draft_load: () => reviewDraft,
      application_submit: () => ({ state: 'sent', application: sent }),
      pay_order: () => order,
      pay_open_provider: () => null,
      application: () => sent,
    })
    await wrapper.find('[data-testid="apply-submit"]').trigger('click')
    await flushPromises()
    expect(calls('pay_order')[0][1]).toEqual({ billId: 'b-9' })
    expect(calls('pay_open_provider')[0][1]).toEqual({ orderId: 'o-9' })
    expect(router.currentRoute.value.path).toBe('/applications/a-1')
    expect(wrapper.find('[data-testid="application-status"]').text()).toBe('待缴费')
    expect(wrapper.find('[data-testid="application-pay"]').exists()).toBe(true)
  })
})

describe('my applications', () => {
  it('shows the countdown, tracking number and history, and withdraws after confirming', async () => {
    const { wrapper } = await open('/applications/a-1', {
      application: () => APP,
      application_withdraw: () => ({ ...APP, status: 'withdrawn', can_withdraw: false, working_days_left: null }),
    })
    expect(calls('application')[0][1]).toEqual({ id: 'a-1' })
    expect(wrapper.find('[data-testid="application-status"]').text()).toBe('已受理')
    expect(wrapper.find('[data-testid="application-countdown"]').text()).toBe('还剩 12 个工作日（截止 2027-03-02）')
    expect(wrapper.find('[data-testid="application-tracking"]').text()).toContain('SF1234567890')
    const timeline = wrapper.find('[data-testid="application-timeline"]').text()
    expect(timeline).toContain('已受理 · 户籍民警')
    expect(timeline).toContain('已提交 · 支付平台')
    expect(wrapper.text()).toContain('10 年')
    expect(wrapper.find('[data-testid="application-pay"]').exists()).toBe(false)

    await wrapper.find('[data-testid="application-withdraw"]').trigger('click')
    await flushPromises()
    const confirm = document.querySelector<HTMLButtonElement>('.withdraw-dialog .van-dialog__confirm')
    expect(confirm).not.toBeNull()
    confirm?.click()
    await flushPromises()
    expect(calls('application_withdraw')[0][1]).toEqual({ id: 'a-1' })
    expect(wrapper.find('[data-testid="application-status"]').text()).toBe('已撤回')
    expect(wrapper.find('[data-testid="application-withdraw"]').exists()).toBe(false)
  })

  it('says how late an overdue application is', async () => {
    const { wrapper } = await open('/applications/a-1', { application: () => ({ ...APP, working_days_left: -3 }) })
    expect(wrapper.find('[data-testid="application-countdown"]').text()).toBe('已超期 3 个工作日（截止 2027-03-02）')
  })

  it('lists applications and what waits in the outbox, and opens one', async () => {
    const queued: OutboxEntry = {
      id: 'ob-1',
      idempotency_key: 'k',
      method: 'POST',
      path: '/api/v1/applications',
      created_at: '2026-11-29T02:00:00Z',
      attempts: 1,
      last_error: 'offline',
      state: 'pending',
    }
    const { wrapper, router } = await open('/', {
      applications: () => ({ items: [APP], next_cursor: null }),
      outbox_entries: () => [queued],
      application: () => APP,
      progress: () => [],
    })
    // The home tile opens the combined progress page, which links to the applications list.
    await wrapper.find('[data-testid="service-progress"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/progress')
    await wrapper.find('[data-testid="progress-applications"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/applications')
    const row = wrapper.find('[data-testid="application-a-1"]')
    expect(row.text()).toContain('居民身份证丢失补领')
    expect(row.find('[data-testid="application-row-status"]').text()).toBe('已受理')
    expect(row.text()).toContain('还剩 12 个工作日')
    expect(wrapper.find('[data-testid="application-pending-ob-1"]').text()).toContain('待发送（联网后自动提交）')
    await row.trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/applications/a-1')
  })

  it('shows an empty state that leads to the ID card services', async () => {
    const { wrapper, router } = await open('/applications', { applications: () => ({ items: [], next_cursor: null }) })
    expect(wrapper.find('[data-testid="applications-empty"]').text()).toContain('还没有申请')
    await wrapper.find('[data-testid="applications-go-apply"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/id-card')
  })

  it('loads the next page with the server\'s cursor until there is no more', async () => {
    const older: ApplicationView = { ...APP, id: 'a-2', item_name: '临时居民身份证' }
    const pages: Record<string, { items: ApplicationView[]; next_cursor: string | null }> = {
      first: { items: [APP], next_cursor: 'c2' },
      c2: { items: [older], next_cursor: null },
    }
    const { wrapper } = await open('/applications', {
      applications: (args) => pages[(args?.cursor as string | null) ?? 'first'],
    })
    expect(wrapper.findAll('[data-testid^="application-a-"]')).toHaveLength(1)
    expect(wrapper.find('[data-testid="applications-more"]').text()).toBe('加载更多')
    await wrapper.find('[data-testid="applications-more"]').trigger('click')
    await flushPromises()
    expect(calls('applications').map(([, args]) => (args as { cursor: string | null }).cursor)).toEqual([null, 'c2'])
    const ids = wrapper.findAll('[data-testid^="application-a-"]').map((r) => r.attributes('data-testid'))
    expect(ids).toEqual(['application-a-1', 'application-a-2'])
    expect(wrapper.find('[data-testid="applications-more"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="applications-end"]').text()).toBe('没有更多了')
  })

  it('keeps the loaded rows and retries the page that failed to load', async () => {
    let fail2 = true
    const { wrapper } = await open('/applications', {
      applications: (args) => {
        if (!args?.cursor) return { items: [APP], next_cursor: 'c2' }
        if (fail2) {
          fail2 = false
          throw { code: 'offline', message: '网络不可用' }
        }
        return { items: [{ ...APP, id: 'a-2' }], next_cursor: null }
      },
    })
    await wrapper.find('[data-testid="applications-more"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="applications-error"]').text()).toContain('offline')
    expect(wrapper.find('[data-testid="application-a-1"]').exists()).toBe(true)
    await wrapper.find('[data-testid="applications-retry"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="application-a-2"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="applications-error"]').exists()).toBe(false)
  })

  it('shows why the list could not be loaded', async () => {
    const { wrapper } = await open('/applications', { applications: fail('offline', '网络不可用') })
    expect(wrapper.find('[data-testid="applications-error"]').text()).toContain('offline')
  })

  it('sends the outbox once signed in and again when the network comes back', async () => {
    await open('/applications', { applications: () => ({ items: [], next_cursor: null }) })
    expect(calls('outbox_flush')).toHaveLength(1)
    window.dispatchEvent(new Event('online'))
    await flushPromises()
    expect(calls('outbox_flush')).toHaveLength(2)
  })
})
