import { createI18n, useI18n } from 'vue-i18n'
import { Locale } from 'vant'
import vantEn from 'vant/es/locale/lang/en-US'
import vantZh from 'vant/es/locale/lang/zh-CN'
import type { Lang } from '../ipc/commands'
import { useSettings } from '../stores/settings'
import en from './en'
import zhCN from './zh-CN'

export function createAppI18n(lang: Lang) {
  return createI18n({
    legacy: false,
    locale: lang,
    fallbackLocale: 'zh-CN',
    messages: { 'zh-CN': zhCN, en },
  })
}

/** Switch Vant's own strings (dialog buttons, empty states…) with ours. */
export function applyVantLocale(lang: Lang): void {
  if (lang === 'en') Locale.use('en-US', vantEn)
  else Locale.use('zh-CN', vantZh)
}

/** `t` that prefers the simpler `elder.*` wording when elder mode is on. */
export function useText() {
  const { t, te } = useI18n()
  const settings = useSettings()
  return (key: string, named: Record<string, unknown> = {}): string =>
    settings.elder && te(`elder.${key}`) ? t(`elder.${key}`, named) : t(key, named)
}
