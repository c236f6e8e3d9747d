import { createRouter, type RouterHistory } from 'vue-router'
import type { Pinia } from 'pinia'
import { useSession } from './stores/session'
import Apply from './views/applications/ApplyView.vue'
import ApplicationDetail from './views/applications/ApplicationDetailView.vue'
import Applications from './views/applications/ApplicationsView.vue'
import CaseDetail from './views/cases/CaseDetailView.vue'
import CaseLookup from './views/cases/CaseLookupView.vue'
import Face from './views/FaceView.vue'
import Bill from './views/pay/BillView.vue'
import Receipt from './views/pay/ReceiptView.vue'
import Scan from './views/pay/ScanView.vue'
import MoveDetail from './views/moves/MoveDetailView.vue'
import MoveRequest from './views/moves/MoveRequestView.vue'
import Moves from './views/moves/MovesView.vue'
import IdCard from './views/services/IdCardView.vue'
import IdPhoto from './views/services/IdPhotoView.vue'
import ServiceItem from './views/services/ServiceItemView.vue'
import Home from './views/HomeView.vue'
import Me from './views/MeView.vue'
import Privacy from './views/PrivacyView.vue'
import Progress from './views/ProgressView.vue'
import SignIn from './views/SignInView.vue'

/** `startup` resolves once the app is ready to read the session (language set). */
export function createAppRouter(history: RouterHistory, pinia: Pinia, startup: Promise<unknown>) {
  const router = createRouter({
    history,
    routes: [
      { path: '/sign-in', component: SignIn, meta: { public: true } },
      { path: '/privacy', component: Privacy, meta: { public: true } },
      { path: '/', component: Home, meta: { tabbar: true } },
      { path: '/me', component: Me, meta: { tabbar: true } },
      { path: '/face', component: Face },
      { path: '/pay', component: Scan },
      { path: '/id-card', component: IdCard },
      { path: '/id-photo', component: IdPhoto },
      { path: '/services/:item', component: ServiceItem },
      { path: '/apply/:item', component: Apply },
      { path: '/applications', component: Applications },
      { path: '/applications/:id', component: ApplicationDetail },
      { path: '/progress', component: Progress },
      { path: '/cases/lookup', component: CaseLookup },
      { path: '/cases/:id', component: CaseDetail },
      { path: '/moves', component: Moves },
      { path: '/moves/new', component: MoveRequest },
      { path: '/moves/:id', component: MoveDetail },
      { path: '/pay/bills/:id', component: Bill },
      { path: '/pay/receipts/:number', component: Receipt },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  })

  router.beforeEach(async (to) => {
    const session = useSession(pinia)
    if (!session.loaded) {
      await startup
      await session.load()
    }
    if (to.path === '/sign-in' && session.info) return '/'
    if (to.meta.public || session.info) return true
    return '/sign-in'
  })

  return router
}
