// Builds the app's plugins; shared by main.ts and the tests.
import { createPinia } from 'pinia'
import type { Router, RouterHistory } from 'vue-router'
import { createAppI18n } from './i18n'
import { setIpcHooks, setLanguage } from './ipc/commands'
import { createAppRouter } from './router'
import { useNet } from './stores/net'
import { useSession } from './stores/session'
import { useSettings } from './stores/settings'

export function createJingtong(history: RouterHistory) {
  const pinia = createPinia()
  const settings = useSettings(pinia)
  const i18n = createAppI18n(settings.lang)
  // Before the session is read, so errors from Rust arrive in the user's language.
  const startup = setLanguage(settings.lang).catch(() => {})
  const router: Router = createAppRouter(history, pinia, startup)
  const net = useNet(pinia)
  const session = useSession(pinia)

  setIpcHooks({
    onError(error) {
      if (error.code === 'offline') net.offline = true
      // refresh_token_invalid also means the session is gone (crates/api codes.rs).
      if ((error.code === 'unauthorized' || error.code === 'refresh_token_invalid') && session.info) {
        session.clear()
        void router.replace('/sign-in')
      }
    },
    onNetworkOk() {
      net.offline = false
    },
  })
  window.addEventListener('online', () => {
    net.offline = false
  })

  return { pinia, i18n, router }
}
