import { IOClients, method, ParamsContext, RecorderState, Service, ServiceContext } from '@vtex/api'

import { fromDotnet, received } from './events/fromDotnet'
import { greeting } from './greeting'

type Context = ServiceContext<IOClients, RecorderState>

export default new Service<IOClients, RecorderState, ParamsContext>({
  clients: {
    implementation: IOClients,
    options: {
      default: { retries: 2, timeout: 10000 },
      events: { retries: 1, timeout: 3000, exponentialTimeoutCoefficient: 2, initialBackoffDelay: 50, concurrency: 10 },
    },
  },
  routes: {
    // Public: the router passes the path's parameters in x-colossus-params.
    hello: method({
      GET: async (ctx: Context) => {
        ctx.body = `${greeting} ${ctx.vtex.route.params.name} from ${process.env.VTEX_APP_ID} in ${ctx.vtex.account}/${ctx.vtex.workspace}`
      },
    }),
    // Private: @vtex/api serves it at /{account}/{workspace}/_v/node-app/private/whoami.
    whoami: method({
      GET: async (ctx: Context) => {
        const { account, workspace, production, region, route } = ctx.vtex
        ctx.body = { account, workspace, production, region, route: route.id }
      },
    }),
    // Fires test-event with the app's own credential, through the Events client: POST /_v/node-app/fire?id=...
    fire: method({
      POST: async (ctx: Context) => {
        const id = String(ctx.query.id)
        await ctx.clients.events.sendEvent('', 'test-event', { from: 'node', id })
        ctx.vtex.logger.info(`fired test-event ${id}`)
        ctx.status = 204
      },
    }),
    received: method({
      GET: async (ctx: Context) => {
        ctx.body = received
      },
    }),
  },
  events: {
    fromDotnet,
  },
})
