/** Body limits. PAGE_SIZE for writes like sysfs's, which never looks past one page. */
export const BODY_LIMIT = 4096
/** A process spec with a long VMA layout is the largest body the API takes. */
export const PROCESS_BODY_LIMIT = 256 * 1024
