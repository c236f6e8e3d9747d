// Shared wording for cases (detail page and the progress list).
import type { CaseView } from '../../bindings/CaseView'
import { localTime } from '../applications/countdown'

type T = (key: string, named?: Record<string, unknown>) => string
type Te = (key: string) => boolean

const HOUR = 3_600_000

/** A date-only deadline runs to the end of that local day. */
function deadlineTime(value: string): Date {
  return new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T23:59:59` : value)
}

/** `YYYY-MM-DD` stays as it is; an instant is shown in local time. */
export function shownDate(value: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : localTime(value)
}

/** "<label>：还剩 N 天 M 小时（截止 …）"; empty when no deadline runs. */
export function caseDeadline(t: T, c: CaseView, now = Date.now()): string {
  if (!c.deadline) return ''
  const label = c.deadline_label ?? ''
  const date = shownDate(c.deadline)
  const left = deadlineTime(c.deadline).getTime() - now
  if (Number.isNaN(left)) return `${label} ${date}`.trim()
  if (left <= 0) return t('cases.deadlinePassed', { label, date })
  const hours = Math.floor(left / HOUR)
  return t('cases.deadlineLeft', { label, d: Math.floor(hours / 24), h: hours % 24, date })
}

/** Known kinds are named; a kind the app does not know yet is shown as the server sent it. */
export function caseKind(t: T, te: Te, kind: string): string {
  return te(`cases.kinds.${kind}`) ? t(`cases.kinds.${kind}`) : kind
}

export function caseTone(status: CaseView['status']): 'danger' | 'default' | 'primary' {
  if (status === 'not_opened') return 'danger'
  return status === 'closed' || status === 'transferred' ? 'default' : 'primary'
}
