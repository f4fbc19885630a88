import { EventContext, IOClients } from '@vtex/api'

/** Every event this app handled, newest last (served by the `received` route). */
export const received: Array<{ key: string; sender: string; body: unknown }> = []

export async function fromDotnet(ctx: EventContext<IOClients>) {
  received.push({ key: ctx.key, sender: ctx.sender, body: ctx.body })
  console.log(`NODE EVENT HANDLER: received ${ctx.key} from ${ctx.sender}: ${JSON.stringify(ctx.body)}`)
}
