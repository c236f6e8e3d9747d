import { defineStore } from 'pinia'
import type { Lang } from '../ipc/commands'

const LANG_KEY = 'jingtong.lang'
const ELDER_KEY = 'jingtong.elder'

function readLang(): Lang {
  return localStorage.getItem(LANG_KEY) === 'en' ? 'en' : 'zh-CN'
}

// Language and elder mode are display preferences, not personal data: localStorage is enough.
export const useSettings = defineStore('settings', {
  state: () => ({
    lang: readLang(),
    elder: localStorage.getItem(ELDER_KEY) === '1',
  }),
  actions: {
    setLang(lang: Lang) {
      this.lang = lang
      localStorage.setItem(LANG_KEY, lang)
    },
    setElder(on: boolean) {
      this.elder = on
      localStorage.setItem(ELDER_KEY, on ? '1' : '0')
    },
  },
})
