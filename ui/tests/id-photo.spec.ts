import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { IdPhotoCheck } from '../src/bindings/IdPhotoCheck'
import { calls, fakeBackend, mountApp } from './helpers'

const pick = async (wrapper: Awaited<ReturnType<typeof mountApp>>['wrapper']) => {
  const input = wrapper.find('[data-testid="id-photo-import"]')
  Object.defineProperty(input.element, 'files', { value: [new File([new Uint8Array([1])], 'me.jpg')], configurable: true })
  await input.trigger('change')
  await new Promise((r) => setTimeout(r, 20))
  await flushPromises()
}

const result = (problem: string | null): IdPhotoCheck => ({
  ok: !problem,
  problem,
  message: problem ? '背景须为纯色浅色，请在白色或浅色墙前重新拍摄。' : '',
  jpeg_base64: '/9j/AA==',
  face_width_px: 207,
  head_top_px: 14,
  eye_line_from_bottom_px: 250,
  bytes: 30000,
})

describe('ID photo check', () => {
  it('shows the crop and why it fails, then a photo that passes', async () => {
    let answer = result('id_photo_background')
    fakeBackend({ id_photo_check: () => answer }, true)
    const { wrapper } = await mountApp('/id-photo')
    await pick(wrapper)
    expect(calls('id_photo_check')).toHaveLength(1)
    expect(wrapper.find('[data-testid="id-photo-preview"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="id-photo-problem"]').text()).toContain('id_photo_background')
    answer = result(null)
    await pick(wrapper)
    expect(wrapper.find('[data-testid="id-photo-ok"]').text()).toContain('30 KB')
  })
})
