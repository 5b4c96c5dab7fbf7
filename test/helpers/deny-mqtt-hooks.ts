/** Module resolve hook (see deny-mqtt-import.ts): the `mqtt` package cannot be resolved. */
type Next = (specifier: string, context: unknown) => Promise<unknown>;

export async function resolve(specifier: string, context: unknown, next: Next): Promise<unknown> {
  if (specifier === 'mqtt' || specifier.startsWith('mqtt/')) throw new Error(`deny-mqtt: the mqtt package was imported ("${specifier}")`);
  return next(specifier, context);
}
