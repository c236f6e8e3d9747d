import { createRouter, type RouterHistory } from 'vue-router'
import type { Pinia } from 'pinia'
import { useSession } from './stores/session'
import Home from './views/HomeView.vue'
import Me from './views/MeView.vue'
import Privacy from './views/PrivacyView.vue'
import SignIn from './views/SignInView.vue'

// The first screens load with the app; the rest when first opened (less to parse and hold at start).
const Apply = () => import('./views/applications/ApplyView.vue')
const ApplicationDetail = () => import('./views/applications/ApplicationDetailView.vue')
const Applications = () => import('./views/applications/ApplicationsView.vue')
const CaseDetail = () => import('./views/cases/CaseDetailView.vue')
const CaseLookup = () => import('./views/cases/CaseLookupView.vue')
const Face = () => import('./views/FaceView.vue')
const Bill = () => import('./views/pay/BillView.vue')
const Receipt = () => import('./views/pay/ReceiptView.vue')
const Scan = () => import('./views/pay/ScanView.vue')
const MoveDetail = () => import('./views/moves/MoveDetailView.vue')
const MoveRequest = () => import('./views/moves/MoveRequestView.vue')
const Moves = () => import('./views/moves/MovesView.vue')
const IdCard = () => import('./views/services/IdCardView.vue')
const IdPhoto = () => import('./views/services/IdPhotoView.vue')
const ServiceItem = () => import('./views/services/ServiceItemView.vue')
const Progress = () => import('./views/ProgressView.vue')

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
