export const SOURCES_FILE: string;
export function nativeSources(): string[];
