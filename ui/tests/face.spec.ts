import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { FaceChallenge } from '../src/bindings/FaceChallenge'
import type { FaceDecision } from '../src/bindings/FaceDecision'
import type { FrameCheck } from '../src/bindings/FrameCheck'
import { calls, fail, fakeBackend, mountApp, SESSION, type Handler } from './helpers'

// Fictional: the demo resident's name and a generated number, never a real person's.
const NAME = '演示用户甲'
// Generated for this test in the demo residents' region (crates/server/fixtures/demo.json), serial 901, check digit X.
const ID = '34160219990130901X'

const challenge = (): FaceChallenge => ({
  challenge_id: 'c-1',
  nonce: 'n',
  expires_at: new Date(Date.now() + 120_000).toISOString(),
  actions: ['turn_left', 'look_down'],
  frames_required: 3,
})

const verified: FaceDecision = {
  outcome: 'verified',
  reason: null,
  message: '刷脸认证成功，您的账户已完成实名认证。',
  next_step: 'done',
  attempts_left: 4,
}

/** Answers each frame from `script` in turn (accepted, or a problem code). */
function frames(script: (string | null)[]): Handler {
  let ready = 0
  let i = 0
  return (args) => {
    const problem = script[i++] ?? null
    if (!problem) ready = Math.max(ready, Number(args?.slot) + 1)
    const check: FrameCheck = {
      slot: Number(args?.slot),
      accepted: !problem,
      problem,
      message: problem ? '人脸太小，请靠近镜头。' : '',
      checked_locally: true,
      frames_ready: ready,
    }
    return check
  }
}

async function importPhoto(wrapper: Awaited<ReturnType<typeof mountApp>>['wrapper']) {
  const input = wrapper.find('[data-testid="face-import"]')
  const file = new File([new Uint8Array([0xff, 0xd8, 0xff])], 'me.jpg', { type: 'image/jpeg' })
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  // FileReader resolves on a later task.
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

async function fillIdentity(wrapper: Awaited<ReturnType<typeof mountApp>>['wrapper']) {
  await wrapper.find('[data-testid="face-name"] input').setValue(NAME)
  await wrapper.find('[data-testid="face-id-number"] input').setValue(ID.toLowerCase())
  await wrapper.find('[data-testid="face-start"]').trigger('click')
  await flushPromises()
}

describe('face verification', () => {
  it('opens from the home grid', async () => {
    fakeBackend({}, true)
    const { wrapper, router } = await mountApp('/')
    await wrapper.find('[data-testid="service-face"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/face')
    expect(wrapper.find('[data-testid="face-privacy"]').text()).toContain('比对完成后立即删除')
  })

  it('walks through frontal and the two requested actions with imported photos, then shows success', async () => {
    let level: 'none' | 'real_name' = 'none'
    fakeBackend(
      {
        current_session: () => ({ ...SESSION, verification_level: level }),
        face_start: () => challenge(),
        face_check_frame: frames([null, 'face_too_small', null, null]),
        face_submit: () => {
          level = 'real_name'
          return verified
        },
      },
      true,
    )
    const { wrapper } = await mountApp('/face')
    await fillIdentity(wrapper)
    expect(calls('face_start')[0][1]).toEqual({ name: NAME, idNumber: ID })
    expect(wrapper.find('[data-testid="face-instruction"]').text()).toBe('正对镜头')
    expect(wrapper.find('[data-testid="face-steps"]').text()).toContain('向左转头')
    // No camera in this webview: the import path says so and still works.
    expect(wrapper.find('[data-testid="face-no-camera"]').exists()).toBe(true)

    await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="face-instruction"]').text()).toBe('向左转头')
    await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="face-hint"]').text()).toBe('人脸太小，请靠近镜头。')
    expect(wrapper.find('[data-testid="face-instruction"]').text()).toBe('向左转头')
    await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="face-instruction"]').text()).toBe('微微低头')
    await importPhoto(wrapper)

    expect(calls('face_check_frame').map(([, a]) => (a as { slot: number }).slot)).toEqual([0, 1, 1, 2])
    expect(calls('face_submit')).toHaveLength(1)
    expect(wrapper.find('[data-testid="face-outcome"]').text()).toBe('认证通过')
    // The identity draft is gone once verified; the session shows the new level.
    expect(calls('draft_discard').some(([, a]) => (a as { item: string }).item === 'face_identity')).toBe(true)
    await wrapper.find('[data-testid="face-done"]').trigger('click')
    await flushPromises()
    await wrapper.find('.van-tabbar-item:last-child').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="me-verification"]').text()).toContain('已实名认证')
  })

  it('keeps what was typed when the registry does not know the person', async () => {
    fakeBackend(
      { face_start: fail('identity_not_found', '姓名与身份证号不一致，或户籍系统中查无此人。') },
      true,
    )
    const { wrapper } = await mountApp('/face')
    await fillIdentity(wrapper)
    expect(wrapper.find('[data-testid="face-error"]').text()).toContain('identity_not_found')
    expect((wrapper.find('[data-testid="face-name"] input').element as HTMLInputElement).value).toBe(NAME)
    expect((wrapper.find('[data-testid="face-id-number"] input').element as HTMLInputElement).value).toBe(ID)
  })

  it('restores the half-filled identity from the draft', async () => {
    fakeBackend({ draft_load: () => ({ name: NAME, id_number: ID }) }, true)
    const { wrapper } = await mountApp('/face')
    expect((wrapper.find('[data-testid="face-id-number"] input').element as HTMLInputElement).value).toBe(ID)
    expect(wrapper.find('[data-testid="face-start"]').attributes('disabled')).toBeUndefined()
  })

  it('sends a police-window answer when no attempts are left', async () => {
    fakeBackend(
      {
        face_start: () => challenge(),
        face_check_frame: frames([]),
        face_submit: () => ({
          outcome: 'rejected',
          reason: 'face_mismatch',
          message: '人脸与登记照片不一致，认证未通过。',
          next_step: 'visit_police_window',
          attempts_left: 0,
        }),
      },
      true,
    )
    const { wrapper } = await mountApp('/face')
    await fillIdentity(wrapper)
    for (let i = 0; i < 3; i++) await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="face-outcome"]').text()).toBe('认证未通过')
    expect(wrapper.find('[data-testid="face-reason"]').text()).toContain('face_mismatch')
    expect(wrapper.find('[data-testid="face-next"]').text()).toContain('公安服务窗口')
    expect(wrapper.find('[data-testid="face-retry"]').exists()).toBe(false)
  })

  it('offers to send again after the network dropped, without retaking the frames', async () => {
    let online = false
    fakeBackend(
      {
        face_start: () => challenge(),
        face_check_frame: frames([]),
        face_submit: () => {
          if (!online) throw { code: 'offline', message: '网络不可用' }
          return verified
        },
      },
      true,
    )
    const { wrapper } = await mountApp('/face')
    await fillIdentity(wrapper)
    for (let i = 0; i < 3; i++) await importPhoto(wrapper)
    expect(wrapper.find('[data-testid="face-sending"]').text()).toContain('offline')
    online = true
    await wrapper.find('[data-testid="face-resend"]').trigger('click')
    await flushPromises()
    expect(calls('face_check_frame')).toHaveLength(3)
    expect(wrapper.find('[data-testid="face-outcome"]').text()).toBe('认证通过')
  })
})
