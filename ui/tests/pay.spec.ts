import { flushPromises } from '@vue/test-utils'
import { describe, expect, it } from 'vitest'
import type { BillView } from '../src/bindings/BillView'
import type { PaymentOrder } from '../src/bindings/PaymentOrder'
import type { Receipt } from '../src/bindings/Receipt'
import { yuan } from '../src/money'
import { calls, fail, fakeBackend, mountApp } from './helpers'

// Fictional bill of the demo data set.
const BILL: BillView = {
  bill_id: 'b-1',
  bill_number: '0000123456789092',
  kind: 'fine',
  decision_number: '3416000000000001',
  payee: '演示市公安局交通警察支队',
  description: '演示：违法停车罚款',
  due_on: '2026-11-20',
  status: 'unpaid',
  amount_due: {
    principal_fen: 20000,
    late_days: 3,
    late_fee_fen: 1800,
    capped: false,
    total_fen: 21800,
    lines: [
      { kind: 'fine', label: '罚款', amount_fen: 20000 },
      { kind: 'late_fee', label: '加处罚款：逾期 3 天 × 每日 6.00 元', amount_fen: 1800 },
    ],
    source: '《中华人民共和国行政处罚法》第七十二条',
  },
  open_order_id: null,
  receipt_number: null,
}

const order = (status: PaymentOrder['status']): PaymentOrder => ({
  order_id: 'o-1',
  bill_id: 'b-1',
  amount_fen: 21800,
  status,
  expires_at: '2026-11-29T12:00:00Z',
  pay_url: 'http://127.0.0.1:8080/api/v1/dev/provider/pay/p-1',
  receipt_number: status === 'paid' ? 'R-1' : null,
})

const RECEIPT: Receipt = {
  receipt_number: 'R-1',
  bill_number: BILL.bill_number,
  payee: BILL.payee,
  payer_masked: '演**甲',
  lines: BILL.amount_due.lines,
  amount_fen: 21800,
  paid_at: '2026-11-29T10:00:00Z',
  verify_code: 'JTR1.x.y',
}

describe('scan to pay', () => {
  it('formats fen without floating point', () => {
    expect(yuan(21800)).toBe('218.00')
    expect(yuan(5)).toBe('0.05')
    expect(yuan(100000000001)).toBe('1000000000.01')
  })

  it('reads an imported picture, shows the bill with today\'s late fee, and lists my bills', async () => {
    fakeBackend({ bills: () => ({ items: [BILL], next_cursor: null }), pay_scan_image: () => BILL, bill: () => BILL }, true)
    const { wrapper, router } = await mountApp('/pay')
    expect(wrapper.find('[data-testid="my-bills"]').text()).toContain('¥218.00')
    const input = wrapper.find('[data-testid="scan-import"]')
    Object.defineProperty(input.element, 'files', { value: [new File([new Uint8Array([1])], 'qr.png')], configurable: true })
    await input.trigger('change')
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/pay/bills/b-1')
    const amount = wrapper.find('[data-testid="bill-amount"]').text()
    expect(amount).toContain('逾期 3 天')
    expect(wrapper.find('[data-testid="bill-total"]').text()).toBe('¥218.00')
    expect(amount).toContain('行政处罚法')
  })

  it('says plainly when the code is not one of ours', async () => {
    fakeBackend(
      { bills: () => ({ items: [], next_cursor: null }), pay_scan_image: fail('bill_code_foreign', '这不是公安缴费二维码。') },
      true,
    )
    const { wrapper } = await mountApp('/pay')
    expect(wrapper.find('[data-testid="my-bills"]').text()).toContain('暂无账单')
    const input = wrapper.find('[data-testid="scan-import"]')
    Object.defineProperty(input.element, 'files', { value: [new File([new Uint8Array([1])], 'qr.png')], configurable: true })
    await input.trigger('change')
    await new Promise((r) => setTimeout(r, 20))
    await flushPromises()
    expect(wrapper.find('[data-testid="scan-error"]').text()).toContain('bill_code_foreign')
  })

  it('pays once: opens the provider page, waits for the server\'s word, then shows the receipt', async () => {
    let paid = false
    fakeBackend(
      {
        bill: () => BILL,
        pay_order: () => order('open'),
        pay_open_provider: () => null,
        pay_order_status: () => order(paid ? 'paid' : 'open'),
        receipt: () => RECEIPT,
        receipt_qr_svg: () => '<svg data-qr="1"></svg>',
        receipt_export: () => '/home/demo/Downloads/jingtong-receipt-R-1.html',
      },
      true,
    )
    const { wrapper, router } = await mountApp('/pay/bills/b-1')
    await wrapper.find('[data-testid="bill-pay"]').trigger('click')
    await flushPromises()
    expect(calls('pay_order')).toHaveLength(1)
    expect(calls('pay_open_provider')[0][1]).toEqual({ orderId: 'o-1' })
    expect(wrapper.find('[data-testid="bill-waiting"]').exists()).toBe(true)
    // Coming back from the provider is only a hint: the app asks the server.
    await wrapper.find('[data-testid="bill-check"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/pay/bills/b-1')
    paid = true
    await wrapper.find('[data-testid="bill-check"]').trigger('click')
    await flushPromises()
    expect(router.currentRoute.value.path).toBe('/pay/receipts/R-1')
    expect(wrapper.find('[data-testid="receipt-paid"]').text()).toContain('¥218.00')
    expect(wrapper.find('[data-testid="receipt-qr"] svg').exists()).toBe(true)
    await wrapper.find('[data-testid="receipt-export"]').trigger('click')
    await flushPromises()
    expect(document.body.textContent).toContain('jingtong-receipt-R-1.html')
    expect(calls('pay_order')).toHaveLength(1)
  })
})
