/** The languages guests write in and get answers in. */
export const GUEST_LANGUAGES = ['de', 'en', 'fr', 'it', 'es', 'nl'] as const;
export type GuestLanguage = (typeof GUEST_LANGUAGES)[number];
