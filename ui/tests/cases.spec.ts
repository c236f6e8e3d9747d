import { flushPromises } from '@vue/test-utils'
import { closeNotify } from 'vant'
import { listen } from '@tauri-apps/api/event'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { CaseView } from '../src/bindings/CaseView'
import type { ProgressItem } from '../src/bindings/ProgressItem'
import { useChanges } from '../src/stores/changes'
import { useOutbox } from '../src/stores/outbox'
import { calls, fail, fakeBackend, mountApp, type Backend } from './helpers'

// The Rust shell's `changed` event: the test holds the handler the app registers.
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }))

// Fictional data of the demo set.
const CASE: CaseView = {
  id: 'c-1',
  receipt_number: 'BJ20261120001',
  kind: 'theft',
  title: '电动自行车被盗',
  station: '演示市公安局城关派出所',
  officer: '民警 演示 警号 000001',
  status: 'investigating',
  reported_at: '2026-11-20T02:00:00Z',
  // Far ahead so the countdown stays positive whenever the test runs.
  deadline: '2099-01-01',
  deadline_label: '立案审查期限',
  events: [
    { at: '2026-11-20T02:00:00Z', status: 'received', text: '已接报案' },
    { at: '2026-11-21T03:00:00Z', status: 'investigating', text: '已调取周边监控' },
  ],
}

const ROWS: ProgressItem[] = [
  { kind: 'bill', id: 'b-9', title: '身份证工本费', status: 'unpaid', attention: 'act_now', next_step: '请缴费', deadline: '2026-12-05', updated_at: '2026-11-28T02:00:00Z' },
  { kind: 'case', id: 'c-1', title: '电动自行车被盗', status: 'investigating', attention: 'waiting', next_step: '民警正在调查', updated_at: '2026-11-29T02:00:00Z' },
  { kind: 'application', id: 'a-1', title: '居民身份证丢失补领', status: 'accepted', attention: 'deadline', next_step: '正在审核', deadline: '2027-03-02', updated_at: '2026-11-27T02:00:00Z' },
]

const mounted: Awaited<ReturnType<typeof mountApp>>[] = []
afterEach(() => {
  closeNotify()
  mounted.splice(0).forEach(({ wrapper, pinia }) => {
    useOutbox(pinia).stop()
    wrapper.unmount()
  })
})

async function open(path: string, overrides: Backend = {}) {
  fakeBackend(overrides, true)
  const app = await mountApp(path)
  mounted.push(app)
  return app
}

describe('case lookup', () => {
  it('sends a code, verifies it and opens the case', async () => {
    const { wrapper, router } = await open('/cases/lookup', {
      case_lookup_start: () => ({ lookup_id: 'l-1', phone_masked: '199****0001', expires_in_seconds: 300 }),
      case_lookup_verify: () => CASE,
      case: () => CASE,
    })
    expect(wrapper.find('[data-testid="case-lookup-note"]').text()).toContain('报案回执')
    await wrapper.find('[data-testid="case-receipt"] input').setValue(' BJ20261120001 ')
    await wrapper.find('[data-testid="case-query-code"] input').setValue('A1B2C3')
    await wrapper.find('[data-testid="case-lookup-start"]').trigger('click')
    await flushPromises()
    expect(calls('case_lookup_start')[0][1]).toEqual({ receiptNumber: 'BJ20261120001', queryCode: 'A1B2C3' })
    expect(wrapper.find('[data-testid="case-code-sent"]').text()).toBe('验证码已发送至 199****0001')

    await wrapper.find('[data-testid="case-sms-code"] input').setValue('123456')
    await wrapper.find('[data-testid="case-lookup-verify"]').trigger('click')
    await flushPromises()
    expect(calls('case_lookup_verify')[0][1]).toEqual({ lookupId: 'l-1', code: '123456' })
    expect(router.currentRoute.value.path).toBe('/cases/c-1')
  })

  it('shows the refusal with its code', async () => {
    const { wrapper } = await open('/cases/lookup', {
      case_lookup_start: fail('case_lookup_failed', '回执号、查询码或验证码不正确。'),
    })
    await wrapper.find('[data-testid="case-receipt"] input').setValue('BJ0')
    await wrapper.find('[data-testid="case-query-code"] input').setValue('X')
    await wrapper.find('[data-testid="case-lookup-start"]').trigger('click')
    await flushPromises()
    const note = wrapper.find('[data-testid="case-lookup-error"]').text()
    expect(note).toContain('回执号、查询码或验证码不正确。')
    expect(note).toContain('case_lookup_failed')
    expect(wrapper.find('[data-testid="case-code-sent"]').exists()).toBe(false)
  })
})

describe('case detail', () => {
  it('shows status, deadline and history, and reloads on a push for this case', async () => {
    let current = CASE
    const { wrapper, pinia } = await open('/cases/c-1', { case: () => current })
    expect(calls('case')[0][1]).toEqual({ id: 'c-1' })
    expect(wrapper.find('[data-testid="case-status"]').text()).toBe('侦查中')
    expect(wrapper.find('[data-testid="case-kind"]').text()).toContain('盗窃')
    expect(wrapper.find('[data-testid="case-receipt-number"]').text()).toContain('BJ20261120001')
    expect(wrapper.find('[data-testid="case-deadline"]').text()).toMatch(/^立案审查期限：还剩 \d+ 天 \d+ 小时（截止 2099-01-01）$/)
    const timeline = wrapper.find('[data-testid="case-timeline"]').text()
    expect(timeline).toContain('已受理')
    expect(timeline).toContain('已调取周边监控')

    current = { ...CASE, status: 'closed', deadline: undefined, events: [...CASE.events, { at: '2026-11-29T03:00:00Z', status: 'closed', text: '案件已侦破' }] }
    const changes = useChanges(pinia)
    // Another case's change leaves this page alone.
    changes.received({ kind: 'case', id: 'c-2', summary: '其他案件' })
    await flushPromises()
    expect(calls('case')).toHaveLength(1)
    changes.received({ kind: 'case', id: 'c-1', summary: '案件已结案' })
    await flushPromises()
    expect(calls('case')).toHaveLength(2)
    expect(wrapper.find('[data-testid="case-status"]').text()).toBe('已结案')
    expect(wrapper.find('[data-testid="case-deadline"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="case-timeline"]').text()).toContain('案件已侦破')
    // Vant's notify is a singleton on <body>; this is the first one shown in this file.
    expect(document.body.textContent).toContain('办理进度有更新：案件已结案')
  })
})

describe('progress', () => {
  it('lists items in the order given, marks what needs the resident, and opens each by kind', async () => {
    const { wrapper, router, pinia } = await open('/progress', {
      progress: () => ROWS,
      bill: fail('offline', '网络不可用'),
      case: () => CASE,
      application: fail('offline', '网络不可用'),
    })
    const rows = wrapper.findAll('[data-testid="progress-list"] > .van-cell')
    expect(rows.map((r) => r.attributes('data-testid'))).toEqual(['progress-bill-b-9', 'progress-case-c-1', 'progress-application-a-1'])
    const bill = wrapper.find('[data-testid="progress-bill-b-9"]')
    expect(bill.find('[data-testid="progress-act-now"]').text()).toBe('需要您处理')
    expect(bill.find('[data-testid="progress-status"]').text()).toBe('待缴费')
    expect(bill.text()).toContain('截止 2026-12-05')
    const kase = wrapper.find('[data-testid="progress-case-c-1"]')
    expect(kase.find('[data-testid="progress-act-now"]').exists()).toBe(false)
    expect(kase.find('[data-testid="progress-status"]').text()).toBe('侦查中')
    expect(wrapper.find('[data-testid="progress-application-a-1"] [data-testid="progress-status"]').text()).toBe('已受理')

    // Any push reloads the list.
    useChanges(pinia).received({ kind: 'application', id: 'a-9', summary: '新申请' })
    await flushPromises()
    expect(calls('progress')).toHaveLength(2)

    for (const [testid, path] of [
      ['progress-bill-b-9', '/pay/bills/b-9'],
      ['progress-case-c-1', '/cases/c-1'],
      ['progress-application-a-1', '/applications/a-1'],
    ]) {
      await router.push('/progress')
      await flushPromises()
      await wrapper.find(`[data-testid="${testid}"]`).trigger('click')
      await flushPromises()
      expect(router.currentRoute.value.path).toBe(path)
    }
  })

  it('shows an empty state and links to the case lookup', async () => {
    const { wrapper, router } = await open('/progress', { progress: () => [] })
    expect(wrapper.find('[data-testid="progress-empty"]').text()).toContain('暂无办理中的事项')
    await wrapper.find('[data-testid="progress-case-lookup"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/cases/lookup')
  })

  it('shows why the list could not be loaded', async () => {
    const { wrapper } = await open('/progress', { progress: fail('server_error', '服务暂时不可用') })
    expect(wrapper.find('[data-testid="progress-error"]').text()).toContain('server_error')
  })

  it('opens from the home tile', async () => {
    const { wrapper, router } = await open('/', { progress: () => ROWS })
    await wrapper.find('[data-testid="service-progress"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/progress')
    expect(wrapper.find('[data-testid="progress-case-c-1"]').exists()).toBe(true)
  })
})

describe('server pushes', () => {
  it('listens once signed in and stops on sign-out', async () => {
    let handler: ((e: { payload: unknown }) => void) | undefined
    const unlisten = vi.fn()
    vi.mocked(listen).mockReset()
    vi.mocked(listen).mockImplementation(async (_name, h) => {
      handler = h as typeof handler
      return unlisten
    })
    const { pinia } = await open('/', {})
    expect(vi.mocked(listen).mock.calls[0][0]).toBe('changed')
    handler?.({ payload: { kind: 'application', id: 'a-1', summary: '您的申请已受理' } })
    await flushPromises()
    const changes = useChanges(pinia)
    expect(changes.version).toBe(1)
    expect(changes.last?.summary).toBe('您的申请已受理')
    changes.stop()
    expect(unlisten).toHaveBeenCalled()
  })
})
