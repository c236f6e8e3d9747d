// A paged list on a screen: the first page on open, the next one on "load more". The cursor is
// the server's and passed back unchanged.
import { ref, type Ref } from 'vue'
import type { AppError } from './bindings/AppError'
import type { Page } from './bindings/Page'

export function usePaged<T>(fetchPage: (cursor?: string) => Promise<Page<T>>) {
  const items = ref<T[] | null>(null) as Ref<T[] | null>
  const next = ref<string | null>(null)
  const error = ref<AppError | null>(null)
  const loadingMore = ref(false)
  // What to try again after an error: the first page, or the page that failed to load.
  let failed: 'first' | 'more' = 'first'

  /** The first page again (on open and after a change): what was loaded below it is dropped. */
  async function reload() {
    error.value = null
    try {
      const page = await fetchPage()
      items.value = page.items
      next.value = page.next_cursor
    } catch (e) {
      failed = 'first'
      error.value = e as AppError
    }
  }

  async function more() {
    const cursor = next.value
    if (!cursor || loadingMore.value) return
    loadingMore.value = true
    error.value = null
    try {
      const page = await fetchPage(cursor)
      items.value = [...(items.value ?? []), ...page.items]
      next.value = page.next_cursor
    } catch (e) {
      failed = 'more'
      error.value = e as AppError
    } finally {
      loadingMore.value = false
    }
  }

  const retry = () => (failed === 'more' ? more() : reload())

  return { items, next, error, loadingMore, reload, more, retry }
}
