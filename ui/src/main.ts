import { createApp, nextTick } from 'vue'
import { createWebHashHistory } from 'vue-router'
import 'vant/lib/index.css'
import './styles.css'
import App from './App.vue'
import { appReady } from './ipc/commands'
import { createJingtong } from './setup'

// Hash history: tauri://localhost only serves files, so deep links must not hit the server.
const { pinia, i18n, router } = createJingtong(createWebHashHistory())
createApp(App).use(pinia).use(i18n).use(router).mount('#app')
// The first route has rendered: the start-up time the shell logs (scripts/bench reads it).
void router
  .isReady()
  .then(() => nextTick())
  .then(() => appReady())
  .catch(() => undefined)
