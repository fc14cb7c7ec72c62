using System.CommandLine;
using System.Text.Json.Nodes;
using ImOrleans.Gateway.Grpc.V1;

namespace ImOrleans.ImCtl.Commands;

/// <summary><c>imctl user add|get|disable|enable|passwd|token|purge</c>.</summary>
public static class UserCommands
{
    public static Command Create() => new("user", "Create and manage accounts")
    {
        Add(), Get(), Disable(), Enable(), Passwd(), Token(), Purge(),
    };

    private static Argument<string> UserArgument() => new("user") { Description = "User id (a-z 0-9 _ . -)" };

    private static Option<string> PasswordOption() => new("--password")
    {
        Description = "The password; '-' reads it from the first line of stdin (keeps it out of shell history)",
        Required = true,
    };

    private static Command Add()
    {
        var user = UserArgument();
        var password = PasswordOption();
        var command = new Command("add", "Create an account") { user, password };
        command.Run(async c =>
        {
            var created = await c.Connection.Users.CreateUserAsync(
                new CreateUserRequest { User = c.Get(user), Password = ReadPassword(c.Get(password)!) }, c.Unary);
            c.Output.Write(Format.Json(created), $"created user {created.Id}");
        });
        return command;
    }

    private static Command Get()
    {
        var user = UserArgument();
        var command = new Command("get", "Show an account") { user };
        command.Run(async c =>
        {
            var found = await c.Connection.Users.GetUserAsync(new GetUserRequest { User = c.Get(user) }, c.Unary);
            c.Output.Write(Format.Json(found), Format.Text(found));
        });
        return command;
    }

    private static Command Disable()
    {
        var user = UserArgument();
        var command = new Command("disable", "Disable an account: it can no longer log in or send") { user };
        command.Run(async c =>
        {
            var changed = await c.Connection.Users.DisableUserAsync(new DisableUserRequest { User = c.Get(user) }, c.Unary);
            c.Output.Write(Format.Json(changed), $"disabled user {changed.Id}");
        });
        return command;
    }

    private static Command Enable()
    {
        var user = UserArgument();
        var command = new Command("enable", "Enable a disabled account") { user };
        command.Run(async c =>
        {
            var changed = await c.Connection.Users.EnableUserAsync(new EnableUserRequest { User = c.Get(user) }, c.Unary);
            c.Output.Write(Format.Json(changed), $"enabled user {changed.Id}");
        });
        return command;
    }

    private static Command Passwd()
    {
        var user = UserArgument();
        var password = PasswordOption();
        var command = new Command("passwd", "Set a new password") { user, password };
        command.Run(async c =>
        {
            var id = c.Get(user);
            await c.Connection.Users.SetPasswordAsync(new SetPasswordRequest { User = id, Password = ReadPassword(c.Get(password)!) }, c.Unary);
            c.Output.Write(new JsonObject { ["user"] = id, ["passwordChanged"] = true }, $"password of {id} changed");
        });
        return command;
    }

    private static Command Token()
    {
        var user = UserArgument();
        var lifetime = new Option<long>("--lifetime") { Description = "Lifetime in seconds (default: the server's access token lifetime)" };
        var command = new Command("token", "Issue an access token (the MQTT password of the user); prints only the token") { user, lifetime };
        command.Run(async c =>
        {
            var id = c.Get(user);
            var issued = await c.Connection.Users.IssueTokenAsync(new IssueTokenRequest { User = id, LifetimeSeconds = c.Get(lifetime) }, c.Unary);
            c.Output.Write(new JsonObject
            {
                ["user"] = id,
                ["accessToken"] = issued.AccessToken,
                ["expiresAt"] = Format.Time(issued.ExpiresAt),
                ["expiresIn"] = issued.ExpiresInSeconds,
            }, issued.AccessToken);
        });
        return command;
    }

    private static Command Purge()
    {
        var user = UserArgument();
        var yes = new Option<bool>("--yes") { Description = "Confirm: the account and the text of its messages cannot be brought back" };
        var command = new Command("purge", "Erase an account: its messages become tombstones, its devices and sessions end, the account is gone")
        {
            user, yes,
        };
        command.Run(async c =>
        {
            var id = c.Get(user);
            if (!c.Get(yes))
                throw new UsageException($"purging {id} cannot be undone; add --yes");
            await c.Connection.Users.PurgeUserAsync(new PurgeUserRequest { User = id }, c.Unary);
            c.Output.Write(new JsonObject { ["user"] = id, ["purged"] = true }, $"purged user {id}");
        });
        return command;
    }

    private static string ReadPassword(string value)
    {
        if (value != "-")
            return value;
        return Console.In.ReadLine() ?? throw new UsageException("--password -: stdin is empty");
    }
}
