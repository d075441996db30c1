/** Dates as the admin's browser writes them; `—` for none. */
export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : '—';
}

export function count(n: number | undefined): string {
  return (n ?? 0).toLocaleString();
}
