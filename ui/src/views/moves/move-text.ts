// Shared wording for vehicle-moving requests (list and detail).
import type { MoveEvent } from '../../bindings/MoveEvent'
import type { MoveParty } from '../../bindings/MoveParty'
import type { MoveStatus } from '../../bindings/MoveStatus'
import type { MoveView } from '../../bindings/MoveView'

type T = (key: string, named?: Record<string, unknown>) => string

/** Tag colour: orange while someone waits, red when the police have it, green when done. */
export function moveTone(status: MoveStatus): 'warning' | 'danger' | 'success' | 'primary' {
  if (status === 'waiting') return 'warning'
  if (status === 'escalated') return 'danger'
  return status === 'resolved' ? 'success' : 'primary'
}

export function eventLabel(t: T, event: MoveEvent): string {
  if (event.kind === 'coming') {
    return event.eta_minutes != null ? t('moves.events.coming', { n: event.eta_minutes }) : t('moves.events.comingNoEta')
  }
  return t(`moves.events.${event.kind}`)
}

/** The owner's latest "coming" answer, whose minutes the ETA line repeats. */
export function latestComing(view: MoveView): MoveEvent | undefined {
  return view.events.filter((e) => e.kind === 'coming').at(-1)
}

/** "我" for my own messages, "交警"/"系统" for those, "对方" for the other side. */
export function senderLabel(t: T, from: MoveParty, me: MoveParty): string {
  if (from === me) return t('moves.me')
  if (from === 'traffic' || from === 'system') return t(`moves.party.${from}`)
  return t('moves.other')
}
