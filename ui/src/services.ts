// The static service catalogue shown on home; entries without a route are not built yet.
import en from './i18n/en'
import zhCN from './i18n/zh-CN'

export const SERVICES = [
  { key: 'face', icon: 'smile-o', route: '/face' },
  { key: 'id-card', icon: 'idcard', route: '/id-card' },
  { key: 'temp-id', icon: 'vip-card-o', route: '/services/temporary_id_card' },
  { key: 'vehicle-move', icon: 'logistics', route: '/moves/new' },
  { key: 'scan-pay', icon: 'scan', route: '/pay' },
  { key: 'progress', icon: 'todo-list-o', route: '/progress' },
  { key: 'case-lookup', icon: 'description-o', route: '/cases/lookup' },
] as const satisfies readonly { key: string; icon: string; route?: string }[]

export type Service = (typeof SERVICES)[number]

/** Matches the name in either language, so "身份证" and "id card" both work. */
export function filterServices(query: string): Service[] {
  const q = query.trim().toLowerCase()
  if (!q) return [...SERVICES]
  return SERVICES.filter((s) =>
    [zhCN.services[s.key], en.services[s.key]].some((name) => name.toLowerCase().includes(q)),
  )
}
