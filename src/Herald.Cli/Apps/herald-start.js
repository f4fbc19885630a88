// Starts a VTEX IO node app for `herald link`, as VTEX IO's runtime starts one worker of it.
//
// `herald link` writes this file into the app's .herald/node/run/ folder, next to service/service.json and the
// compiled service/src/node/index.js, and runs it there: @vtex/api's own loader reads those two from the working
// folder, and @vtex/api's own worker serves the app. What differs from VTEX IO:
// - the worker listens on 127.0.0.1 at the port in HERALD_NODE_PORT (VTEX IO's is 5050 on every interface);
// - a request the broker's router forwards is shaped as VTEX IO's router shapes it for @vtex/api: a private route
//   is served at /{account}/{workspace}{path} and matched by that path (its x-colossus-route-id is dropped), and a
//   public route gets the parameters of its path in x-colossus-params.
'use strict'

const http = require('http')
const querystring = require('querystring')
const { getServiceJSON } = require('@vtex/api/lib/service/loaders')
const { startWorker } = require('@vtex/api/lib/service/worker')

const ROUTE_ID = 'x-colossus-route-id'
const PARAMS = 'x-colossus-params'

const serviceJSON = getServiceJSON()
const routes = Object.fromEntries(
  Object.entries(serviceJSON.routes || {}).map(([id, route]) => [id, { ...route, match: compile(route.path) }])
)
const handle = startWorker(serviceJSON).callback()

http
  .createServer((request, response) => {
    shapeRoutedRequest(request)
    handle(request, response)
  })
  .listen(Number(process.env.HERALD_NODE_PORT), '127.0.0.1')

function shapeRoutedRequest(request) {
  const route = routes[request.headers[ROUTE_ID]]
  if (!route) {
    return
  }

  if (route.public || route.extensible) {
    request.headers[PARAMS] = querystring.stringify(route.match(request.url.split('?')[0]))
  } else {
    delete request.headers[ROUTE_ID]
    request.url = `/${request.headers['x-vtex-account']}/${request.headers['x-vtex-workspace']}${request.url}`
  }
}

// A route path as VTEX declares it: ':name' matches one segment, a final '*name' the rest.
function compile(path) {
  const names = []
  const source = String(path)
    .split('/')
    .map(segment => {
      if (segment.startsWith(':') || segment.startsWith('*')) {
        names.push(segment.slice(1))
        return segment.startsWith(':') ? '([^/]+)' : '(.*)'
      }

      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    })
    .join('/')
  const pattern = new RegExp(`^${source}$`)
  return pathname => {
    const found = pattern.exec(pathname)
    const params = {}
    names.forEach((name, index) => {
      if (found && found[index + 1] !== undefined) {
        params[name] = decode(found[index + 1])
      }
    })
    return params
  }
}

function decode(value) {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
