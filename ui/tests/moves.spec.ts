import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it } from 'vitest'
import type { MoveRules } from '../src/bindings/MoveRules'
import type { MoveView } from '../src/bindings/MoveView'
import type { PreparedPhoto } from '../src/bindings/PreparedPhoto'
import { useChanges } from '../src/stores/changes'
import { useOutbox } from '../src/stores/outbox'
import { calls, fail, fakeBackend, mountApp, type Backend } from './helpers'

type Wrapper = Awaited<ReturnType<typeof mountApp>>['wrapper']

// Fictional data of the demo set; the numbers are deliberately not the real ones, so the test
// proves they come from the rules data and not from the UI.
const RULES: MoveRules = {
  version: '2026-11-29',
  limits: {
    requests_per_month: 7,
    requests_per_month_source: 'service_terms: 每月限次',
    open_requests_per_plate: 1,
    open_requests_per_plate_source: 'service_terms: 同一车辆同一时间只处理一个挪车请求',
    photos_min: 2,
    photos_max: 3,
    photos_source: 'service_terms: 现场照片',
    photos_kept_days: 31,
    photos_kept_source: '个人信息保护法 第十九条',
  },
  timers: { reminder_after_minutes: 11, escalate_after_minutes: 22, timers_source: 'service_terms: 催单与转交' },
  abuse: { malicious_reports_to_suspend: 4, suspension_days: 365, abuse_source: 'service_terms: 恶意请求' },
  duty: { source: '道路交通安全法 第五十六条', privacy_source: '个人信息保护法 第六条' },
}

const P1 = '/9j/P1=='
const P2 = '/9j/P2=='
const DRAFT_KEY = 'vehicle_move'

const FULL_DRAFT = {
  plate_type: 'small_blue',
  province: '皖',
  rest: 'A12345',
  address: '演示路 1 号停车场 B 区',
  region_code: '340102',
  reason: 'blocking_car',
  note: '',
  photos: [P1, P2],
}

const minutesFromNow = (m: number) => new Date(Date.now() + m * 60_000).toISOString()

const VIEW: MoveView = {
  id: 'm-1',
  role: 'requester',
  plate: '皖A12345',
  plate_type: 'small_blue',
  address: '演示路 1 号停车场 B 区',
  region_code: '340102',
  reason: 'blocking_car',
  status: 'waiting',
  photo_count: 2,
  created_at: '2026-11-29T02:00:00Z',
  can_remind: false,
  can_resolve: true,
  can_answer: false,
  can_report: false,
  events: [
    { kind: 'sent', by: 'requester', at: '2026-11-29T02:00:00Z' },
    { kind: 'notified_in_app', by: 'system', at: '2026-11-29T02:00:05Z' },
  ],
  messages: [],
}

const mounted: Awaited<ReturnType<typeof mountApp>>[] = []
afterEach(() => {
  // Stop the pages' and the outbox's timers before the DOM goes away.
  mounted.splice(0).forEach(({ wrapper, pinia }) => {
    useOutbox(pinia).stop()
    wrapper.unmount()
  })
})

async function open(path: string, overrides: Backend = {}) {
  fakeBackend({ move_rules: () => RULES, ...overrides }, true)
  const app = await mountApp(path)
  mounted.push(app)
  return app
}

const prepared = (jpeg_base64: string): PreparedPhoto => ({ jpeg_base64, width: 1280, height: 960, bytes: 120_000 })

async function importPhotos(wrapper: Wrapper, n: number) {
  const input = wrapper.find('[data-testid="move-photo-import"]')
  const files = Array.from({ length: n }, (_, i) => new File([new Uint8Array([i + 1])], `p${i}.jpg`, { type: 'image/jpeg' }))
  Object.defineProperty(input.element, 'files', { value: files, configurable: true })
  await input.trigger('change')
  for (let i = 0; i < n * 3; i++) {
    await new Promise((r) => setTimeout(r, 10))
    await flushPromises()
  }
}

const afterSave = async () => {
  await new Promise((r) => setTimeout(r, 350))
  await flushPromises()
}
const saves = () => calls('draft_save').map(([, a]) => a as { item: string; payload: Record<string, unknown> })
const submitted = () => calls('move_submit').map(([, a]) => a as { request: Record<string, unknown>; draftItem: string })
const submitBtn = (w: Wrapper) => w.find('[data-testid="move-submit"]')

describe('vehicle moving: the request form', () => {
  it('comes back with the saved draft, photos included, and autosaves every change', async () => {
    const { wrapper } = await open('/moves/new', { draft_load: () => FULL_DRAFT })
    expect(calls('draft_load')[0][1]).toEqual({ item: DRAFT_KEY })
    expect(wrapper.find<HTMLInputElement>('[data-testid="move-plate-rest"] input').element.value).toBe('A12345')
    expect(wrapper.find('[data-testid="move-province"]').text()).toBe('皖')
    expect(wrapper.find<HTMLTextAreaElement>('[data-testid="move-address"] textarea').element.value).toBe('演示路 1 号停车场 B 区')
    expect(wrapper.find('[data-testid="move-region"]').text()).toContain('安徽省 合肥市 瑶海区')
    const thumbs = wrapper.findAll('[data-testid="move-photo-thumb"] img')
    expect(thumbs.map((i) => i.attributes('src'))).toEqual([`data:image/jpeg;base64,${P1}`, `data:image/jpeg;base64,${P2}`])
    expect(wrapper.find('[data-testid="move-photo-count"]').text()).toBe('2 / 3 张')
    expect(wrapper.find('[data-testid="move-saved"]').text()).toBe('已自动保存')
    expect(submitBtn(wrapper).attributes('disabled')).toBeUndefined()

    await wrapper.find('[data-testid="move-plate-rest"] input').setValue('b 7x9q2')
    await wrapper.find('[data-testid="move-reason-fire_lane"]').trigger('click')
    await wrapper.findAll('[data-testid="move-photo-remove"]')[0].trigger('click')
    await afterSave()
    const saved = saves().at(-1)
    expect(saved?.item).toBe(DRAFT_KEY)
    expect(saved?.payload).toMatchObject({ rest: 'B7X9Q2', reason: 'fire_lane', region_code: '340102', photos: [P2] })
    expect(wrapper.find('[data-testid="move-saved"]').text()).toBe('已自动保存')
    // One photo left: below the minimum from the rules data.
    expect(submitBtn(wrapper).attributes('disabled')).toBeDefined()
  })

  it('keeps the submit button off until there are enough photos, and refuses more than the maximum', async () => {
    let n = 0
    const { wrapper } = await open('/moves/new', {
      draft_load: () => ({ ...FULL_DRAFT, photos: [] }),
      move_photo_prepare: () => prepared(`/9j/N${++n}==`),
    })
    expect(wrapper.find('[data-testid="move-photo-count"]').text()).toBe('0 / 3 张')
    expect(submitBtn(wrapper).attributes('disabled')).toBeDefined()

    await importPhotos(wrapper, 1)
    expect(calls('move_photo_prepare')[0][1]).toMatchObject({ image: expect.stringMatching(/^data:/) })
    expect(wrapper.findAll('[data-testid="move-photo-thumb"]')).toHaveLength(1)
    expect(submitBtn(wrapper).attributes('disabled')).toBeDefined()

    await importPhotos(wrapper, 1)
    expect(wrapper.findAll('[data-testid="move-photo-thumb"]')).toHaveLength(2)
    expect(submitBtn(wrapper).attributes('disabled')).toBeUndefined()

    await importPhotos(wrapper, 3)
    expect(wrapper.findAll('[data-testid="move-photo-thumb"]')).toHaveLength(3)
    expect(calls('move_photo_prepare')).toHaveLength(3)
    expect(wrapper.find('[data-testid="move-photo-full"]').text()).toContain('最多 3 张')
    expect(wrapper.find('[data-testid="move-photo-add"]').attributes('disabled')).toBeDefined()
    await afterSave()
    expect(saves().at(-1)?.payload.photos).toEqual(['/9j/N1==', '/9j/N2==', '/9j/N3=='])
  })

  it('shows why a photo could not be used and keeps the others', async () => {
    const { wrapper } = await open('/moves/new', {
      draft_load: () => ({ ...FULL_DRAFT, photos: [P1] }),
      move_photo_prepare: fail('move_photos_invalid', '照片无法读取，请换一张。'),
    })
    await importPhotos(wrapper, 1)
    expect(wrapper.find('[data-testid="move-photo-error"]').text()).toContain('move_photos_invalid')
    expect(wrapper.findAll('[data-testid="move-photo-thumb"]')).toHaveLength(1)
  })

  it('asks for details when the reason is "other"', async () => {
    const { wrapper } = await open('/moves/new', { draft_load: () => FULL_DRAFT })
    await wrapper.find('[data-testid="move-reason-other"]').trigger('click')
    expect(submitBtn(wrapper).attributes('disabled')).toBeDefined()
    await wrapper.find('[data-testid="move-note"] textarea').setValue('挡住小区垃圾清运车')
    expect(submitBtn(wrapper).attributes('disabled')).toBeUndefined()
  })

  it('sends the request and opens its page', async () => {
    const { wrapper, router } = await open('/moves/new', {
      draft_load: () => FULL_DRAFT,
      move_submit: () => ({ state: 'sent', request: VIEW }),
      vehicle_move: () => VIEW,
    })
    await submitBtn(wrapper).trigger('click')
    await flushPromises()
    expect(submitted()[0]).toEqual({
      request: {
        plate: '皖A12345',
        plate_type: 'small_blue',
        address: '演示路 1 号停车场 B 区',
        region_code: '340102',
        reason: 'blocking_car',
        photos: [P1, P2],
        escalate_if_unregistered: false,
      },
      draftItem: DRAFT_KEY,
    })
    expect(router.currentRoute.value.path).toBe('/moves/m-1')
    expect(wrapper.find('[data-testid="move-status"]').text()).toBe('等待车主回应')
  })

  it('sends an embassy plate with 使 and no province', async () => {
    const { wrapper } = await open('/moves/new', {
      draft_load: () => ({ ...FULL_DRAFT, rest: '123456' }),
      move_submit: () => ({ state: 'queued', outbox_id: 'ob-1' }),
    })
    await wrapper.find('[data-testid="move-plate-type-embassy"]').trigger('click')
    expect(wrapper.find('[data-testid="move-province"]').text()).toBe('使')
    await submitBtn(wrapper).trigger('click')
    await flushPromises()
    expect(submitted()[0].request).toMatchObject({ plate: '使123456', plate_type: 'embassy' })
  })

  it('offers the traffic police when the plate is not registered, and resends the same request', async () => {
    let first = true
    const { wrapper, router } = await open('/moves/new', {
      draft_load: () => FULL_DRAFT,
      move_submit: () => {
        if (first) {
          first = false
          throw { code: 'plate_not_registered', message: '未查询到该车辆的登记信息，无法通知车主。您可以直接请求交警处理。' }
        }
        return { state: 'sent', request: { ...VIEW, status: 'escalated' } }
      },
      vehicle_move: () => ({ ...VIEW, status: 'escalated' }),
    })
    await submitBtn(wrapper).trigger('click')
    await flushPromises()
    const note = wrapper.find('[data-testid="move-error"]')
    expect(note.text()).toContain('未查询到该车辆的登记信息')
    expect(note.text()).toContain('plate_not_registered')
    // Nothing typed is lost.
    expect(wrapper.find<HTMLInputElement>('[data-testid="move-plate-rest"] input').element.value).toBe('A12345')

    await wrapper.find('[data-testid="move-escalate-unregistered"]').trigger('click')
    await flushPromises()
    const [a, b] = submitted()
    expect(a.request.escalate_if_unregistered).toBe(false)
    expect(b).toEqual({ request: { ...a.request, escalate_if_unregistered: true }, draftItem: DRAFT_KEY })
    expect(router.currentRoute.value.path).toBe('/moves/m-1')
    expect(wrapper.find('[data-testid="move-status"]').text()).toBe('已转交警处理')
  })

  it('explains a refusal and links to face verification when it is needed', async () => {
    const { wrapper, router } = await open('/moves/new', {
      draft_load: () => FULL_DRAFT,
      move_submit: fail('verification_required', '请先完成刷脸认证。'),
    })
    await submitBtn(wrapper).trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="move-error"]').text()).toContain('verification_required')
    expect(wrapper.find('[data-testid="move-escalate-unregistered"]').exists()).toBe(false)
    await wrapper.find('[data-testid="move-go-face"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/face')
  })

  it('keeps the request for later when offline', async () => {
    const { wrapper, router } = await open('/moves/new', {
      draft_load: () => FULL_DRAFT,
      move_submit: () => ({ state: 'queued', outbox_id: 'ob-1' }),
    })
    await submitBtn(wrapper).trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="move-queued"]').text()).toBe('已保存，联网后将自动发送')
    expect(router.currentRoute.value.path).toBe('/moves/new')
    expect(calls('draft_discard')).toHaveLength(0)
  })

  it('shows the rules one tap away, with the numbers and sources from the rules data', async () => {
    const { wrapper } = await open('/moves/new')
    await wrapper.find('[data-testid="move-rules-open"]').trigger('click')
    await flushPromises()
    const rules = document.querySelector('[data-testid="move-rules"]')?.textContent ?? ''
    expect(rules).toContain('每月最多发起 7 次挪车请求')
    expect(rules).toContain('同一车辆同一时间只处理 1 个请求')
    expect(rules).toContain('车主 11 分钟未回应，可催单一次')
    expect(rules).toContain('22 分钟仍未回应，转交辖区交警处理')
    expect(rules).toContain('经交警核实的恶意请求累计 4 次，暂停使用 365 天')
    expect(rules).toContain('现场照片在请求结束 31 天后删除')
    expect(rules).toContain('service_terms: 每月限次')
    expect(rules).toContain('个人信息保护法 第六条')
    expect(rules).toContain('规则版本 2026-11-29')
  })

  it('links to my requests from the header', async () => {
    const { wrapper, router } = await open('/moves/new', { vehicle_moves: () => ({ items: [], next_cursor: null }) })
    await wrapper.find('[data-testid="move-my-requests"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/moves')
  })
})

describe('vehicle moving: one request', () => {
  it('shows the timeline and the owner’s arrival time from the latest "coming" answer', async () => {
    const view: MoveView = {
      ...VIEW,
      status: 'coming',
      eta_at: minutesFromNow(5),
      events: [
        ...VIEW.events,
        { kind: 'coming', by: 'owner', at: '2026-11-29T02:03:00Z', eta_minutes: 15 },
        { kind: 'coming', by: 'owner', at: '2026-11-29T02:04:00Z', eta_minutes: 5 },
      ],
    }
    const { wrapper } = await open('/moves/m-1', { vehicle_move: () => view })
    expect(calls('vehicle_move')[0][1]).toEqual({ id: 'm-1' })
    expect(wrapper.find('[data-testid="move-status"]').text()).toBe('车主正在赶来')
    expect(wrapper.find('[data-testid="move-eta"]').text()).toBe('车主约 5 分钟到')
    const timeline = wrapper.find('[data-testid="move-timeline"]')
    expect(timeline.find('[data-testid="move-event-sent"]').text()).toContain('挪车请求已发出')
    expect(timeline.find('[data-testid="move-event-notified_in_app"]').text()).toContain('已通过应用通知车主')
    expect(timeline.findAll('[data-testid="move-event-coming"]').at(-1)?.text()).toContain('车主回复：约 5 分钟到')
    expect(wrapper.find('[data-testid="move-privacy"]').text()).toContain('双方号码互不可见')
  })

  it('counts down to the reminder, and lets the requester remind once it is allowed', async () => {
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => ({ ...VIEW, remind_from: minutesFromNow(4), escalates_at: minutesFromNow(14) }),
    })
    expect(wrapper.find('[data-testid="move-remind"]').attributes('disabled')).toBeDefined()
    expect(wrapper.find('[data-testid="move-remind-countdown"]').text()).toMatch(/^0[34]:\d\d 后可催单$/)
    expect(wrapper.find('[data-testid="move-escalates"]').text()).toContain('转交交警处理')
  })

  it('sends the reminder when the server allows it', async () => {
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => ({ ...VIEW, can_remind: true, remind_from: minutesFromNow(-1) }),
      vehicle_move_remind: () => ({ ...VIEW, can_remind: false, events: [...VIEW.events, { kind: 'reminded', by: 'requester', at: '2026-11-29T02:11:00Z' }] }),
    })
    const button = wrapper.find('[data-testid="move-remind"]')
    expect(button.attributes('disabled')).toBeUndefined()
    expect(wrapper.find('[data-testid="move-remind-countdown"]').exists()).toBe(false)
    await button.trigger('click')
    await flushPromises()
    expect(calls('vehicle_move_remind')[0][1]).toEqual({ id: 'm-1' })
    expect(wrapper.find('[data-testid="move-event-reminded"]').text()).toContain('已催单')
  })

  it('lets the owner answer with an arrival time', async () => {
    const owner: MoveView = { ...VIEW, role: 'owner', can_answer: true, can_resolve: false, can_report: true }
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => owner,
      vehicle_move_answer: () => ({
        ...owner,
        status: 'coming',
        can_answer: false,
        eta_at: minutesFromNow(10),
        events: [...owner.events, { kind: 'coming', by: 'owner', at: new Date().toISOString(), eta_minutes: 10 }],
      }),
    })
    expect(wrapper.find('[data-testid="move-role-owner"]').text()).toBe('关于您的车辆')
    for (const id of ['move-answer-eta-5', 'move-answer-eta-15', 'move-answer-cannot', 'move-answer-not-mine', 'move-report']) {
      expect(wrapper.find(`[data-testid="${id}"]`).exists()).toBe(true)
    }
    expect(wrapper.find('[data-testid="move-remind"]').exists()).toBe(false)
    await wrapper.find('[data-testid="move-answer-eta-10"]').trigger('click')
    await flushPromises()
    expect(calls('vehicle_move_answer')[0][1]).toEqual({ id: 'm-1', answer: { reply: 'coming', eta_minutes: 10 } })
    expect(wrapper.find('[data-testid="move-answer-eta-10"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="move-eta"]').text()).toBe('车主约 10 分钟到')
  })

  it('shows why a message with a phone number was refused and keeps the text', async () => {
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => ({ ...VIEW, messages: [{ from: 'owner', text: '马上下楼', at: '2026-11-29T02:05:00Z' }] }),
      vehicle_move_message: fail('message_contains_number', '留言中不能包含电话号码等数字。'),
    })
    expect(wrapper.find('[data-testid="move-message"]').text()).toContain('对方')
    expect(wrapper.find('[data-testid="move-message"]').text()).toContain('马上下楼')
    const input = wrapper.find('[data-testid="move-message-input"] input')
    await input.setValue('打我电话 19900098000')
    await wrapper.find('[data-testid="move-message-send"]').trigger('click')
    await flushPromises()
    expect(calls('vehicle_move_message')[0][1]).toEqual({ id: 'm-1', text: '打我电话 19900098000' })
    const note = wrapper.find('[data-testid="move-message-error"]').text()
    expect(note).toContain('留言中不能包含电话号码等数字。')
    expect(note).toContain('message_contains_number')
    expect((input.element as HTMLInputElement).value).toBe('打我电话 19900098000')
  })

  it('sends a message and shows it as mine', async () => {
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => VIEW,
      vehicle_move_message: () => ({ ...VIEW, messages: [{ from: 'requester', text: '我在车旁等您', at: '2026-11-29T02:06:00Z' }] }),
    })
    await wrapper.find('[data-testid="move-message-input"] input').setValue('我在车旁等您')
    await wrapper.find('[data-testid="move-message-send"]').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="move-message"]').text()).toContain('我 ·')
    expect((wrapper.find('[data-testid="move-message-input"] input').element as HTMLInputElement).value).toBe('')
  })

  it('resolves after confirming', async () => {
    const { wrapper } = await open('/moves/m-1', {
      vehicle_move: () => VIEW,
      vehicle_move_resolve: () => ({ ...VIEW, status: 'resolved', can_resolve: false }),
    })
    await wrapper.find('[data-testid="move-resolve"]').trigger('click')
    await flushPromises()
    document.querySelector<HTMLButtonElement>('.move-resolve-dialog .van-dialog__confirm')?.click()
    await flushPromises()
    expect(calls('vehicle_move_resolve')[0][1]).toEqual({ id: 'm-1' })
    expect(wrapper.find('[data-testid="move-status"]').text()).toBe('已解决')
    expect(wrapper.find('[data-testid="move-resolve"]').exists()).toBe(false)
  })

  it('reloads when the server pushes a change for it', async () => {
    let status: MoveView['status'] = 'waiting'
    const { wrapper, pinia } = await open('/moves/m-1', { vehicle_move: () => ({ ...VIEW, status }) })
    status = 'escalated'
    useChanges(pinia).received({ kind: 'vehicle_move', id: 'm-1', summary: '挪车请求已转交交警' })
    await flushPromises()
    expect(calls('vehicle_move')).toHaveLength(2)
    expect(wrapper.find('[data-testid="move-status"]').text()).toBe('已转交警处理')
  })

  it('says why it could not be loaded', async () => {
    const { wrapper } = await open('/moves/m-1', { vehicle_move: fail('offline', '网络不可用') })
    expect(wrapper.find('[data-testid="move-load-error"]').text()).toContain('offline')
  })
})

describe('vehicle moving: my requests', () => {
  it('lists requests about my vehicles that need an answer first, and opens one', async () => {
    const mine = { ...VIEW, id: 'm-1' }
    const aboutMine: MoveView = { ...VIEW, id: 'm-2', role: 'owner', plate: '皖B54321', can_answer: true }
    const { wrapper, router } = await open('/moves', { vehicle_moves: () => ({ items: [mine, aboutMine], next_cursor: null }), vehicle_move: () => aboutMine })
    const rows = wrapper.findAll('[data-testid^="move-row-m-"]')
    expect(rows.map((r) => r.attributes('data-testid'))).toEqual(['move-row-m-2', 'move-row-m-1'])
    expect(rows[0].text()).toContain('皖B54321')
    expect(rows[0].find('[data-testid="move-row-about"]').text()).toBe('关于您的车辆')
    expect(rows[1].find('[data-testid="move-row-about"]').exists()).toBe(false)
    expect(rows[1].find('[data-testid="move-row-status"]').text()).toBe('等待车主回应')
    await rows[0].trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/moves/m-2')
  })

  it('loads more requests on demand with the cursor the server gave', async () => {
    const first = { ...VIEW, id: 'm-1' }
    const second = { ...VIEW, id: 'm-3' }
    const { wrapper } = await open('/moves', {
      vehicle_moves: (args) =>
        args?.cursor === 'next-1' ? { items: [second], next_cursor: null } : { items: [first], next_cursor: 'next-1' },
    })
    expect(wrapper.findAll('[data-testid^="move-row-m-"]')).toHaveLength(1)
    await wrapper.find('[data-testid="moves-more"]').trigger('click')
    await flushPromises()
    const rows = wrapper.findAll('[data-testid^="move-row-m-"]').map((r) => r.attributes('data-testid'))
    expect(rows).toEqual(['move-row-m-1', 'move-row-m-3'])
    expect(wrapper.find('[data-testid="moves-more"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="moves-end"]').exists()).toBe(true)
  })

  it('shows an empty state that leads to a new request', async () => {
    const { wrapper, router } = await open('/moves', { vehicle_moves: () => ({ items: [], next_cursor: null }) })
    expect(wrapper.find('[data-testid="moves-empty"]').text()).toContain('还没有挪车请求')
    await wrapper.find('[data-testid="moves-new"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/moves/new')
  })
})
