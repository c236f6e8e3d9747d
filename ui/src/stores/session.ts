import { defineStore } from 'pinia'
import type { AppError } from '../bindings/AppError'
import type { SessionInfo } from '../bindings/SessionInfo'
import { currentSession } from '../ipc/commands'

export const useSession = defineStore('session', {
  state: () => ({
    info: null as SessionInfo | null,
    loaded: false,
    /** Why the stored session could not be read (e.g. keychain_unavailable). */
    loadError: null as AppError | null,
    /** Set by a fresh sign-in so home can offer face verification once. */
    justSignedIn: false,
  }),
  actions: {
    async load() {
      try {
        this.info = await currentSession()
        this.loadError = null
      } catch (e) {
        this.info = null
        this.loadError = e as AppError
      } finally {
        this.loaded = true
      }
    },
    signedIn(info: SessionInfo) {
      this.info = info
      this.loadError = null
      this.justSignedIn = true
    },
    clear() {
      this.info = null
      this.justSignedIn = false
    },
  },
})
