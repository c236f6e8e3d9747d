// Shared wording for an application's time limit.
import type { ApplicationView } from '../../bindings/ApplicationView'

type T = (key: string, named?: Record<string, unknown>) => string

/** "还剩 N 个工作日（截止 …）" or "已超期 N 个工作日"; empty when the limit is not running. */
export function countdown(t: T, app: ApplicationView): string {
  const n = app.working_days_left
  if (n == null) return ''
  const date = app.deadline ?? ''
  return n >= 0 ? t('applications.daysLeft', { n, date }) : t('applications.overdue', { n: -n, date })
}

/** Local date and time, YYYY-MM-DD HH:mm: the same on every phone, whatever its locale. */
export function localTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  const pad = (v: number) => String(v).padStart(2, '0')
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`
}

const DONE = new Set(['completed', 'withdrawn'])
/** Tag colour: red when something is asked of the resident or it failed, green when done. */
export function statusTone(status: ApplicationView['status']): 'warning' | 'danger' | 'success' | 'primary' | 'default' {
  if (status === 'awaiting_payment' || status === 'ready_for_pickup') return 'warning'
  if (status === 'rejected') return 'danger'
  return DONE.has(status) ? 'default' : status === 'posted' ? 'success' : 'primary'
}

/** Whole seconds from `now` until `iso` (0 once it has passed; 0 for an unreadable time). */
export function secondsUntil(iso: string | null | undefined, now = Date.now()): number {
  if (!iso) return 0
  const at = new Date(iso).getTime()
  return Number.isNaN(at) ? 0 : Math.max(0, Math.ceil((at - now) / 1000))
}

/** mm:ss for a short wait (minutes keep counting past 59: "75:00"). */
export function mmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`
}

/** Local time of day, HH:mm. */
export function localClock(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
}
